"""The wall at a glance, in Debian's Chromium at 1920x1080: fits any queue, leads with breaches,
reads from 5 m, never says all clear without its server."""

from __future__ import annotations

import re

import pytest

from tests.helpers import iso_in, put_ticket, ticket

pytestmark = pytest.mark.slow

NOT_RESPONDED = {"first_responded_at": None}


def queue(folder, total: int, breached: int) -> None:
    """A real queue: some breached, many on track or waiting, spread over the three sections."""
    for n in range(1, total + 1):
        if n <= breached:
            fields = {"due_by": iso_in(minutes=-n)}
        elif n % 5 == 0:
            fields = {"status": 3}  # pending: other active, paused
        elif n % 7 == 0:
            fields = {"stats": {"requester_responded_at": iso_in(minutes=-3)}}  # waiting on agent
        elif n % 3 == 0:
            fields = {"due_by": iso_in(hours=6)}  # warning
        else:
            fields = {}
        put_ticket(folder, ticket(n, subject=f"Queue ticket {n} about something that matters", **fields))


def px(page, selector: str) -> float:
    return page.evaluate(f"parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)")


def wait_total(page, total: int) -> None:
    """Until the page shows every ticket written (file events reach the server one by one)."""
    page.wait_for_function(f"() => document.querySelector('#data-age').textContent.includes(' {total} tickets')")


def no_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollHeight <= innerHeight + 1")


def on_screen(page, selector: str) -> bool:
    """Every element *selector* finds is on screen, and it finds one."""
    return page.evaluate(f"""[...document.querySelectorAll({selector!r})].every(e => {{
        const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight + 1; }})
        && document.querySelector({selector!r}) !== null""")


def test_a_120_ticket_queue_fits_one_screen_with_every_breach(gui_server, page) -> None:
    server = gui_server().start()
    queue(server.tickets, 120, breached=10)
    page.goto(server.url)
    wait_total(page, 120)
    page.wait_for_function("() => document.querySelectorAll('.section').length === 3")
    assert no_scroll(page)
    assert on_screen(page, ".section h2")  # every section, with its counts
    for n in range(1, 11):
        assert on_screen(page, f"tr[data-id='{n}']"), f"breached ticket {n} off screen"
    assert page.locator("tr.fold").count() >= 1 and "on track" in page.locator("tr.fold").first.inner_text()
    row_font = px(page, "tr[data-id='1'] td.subject")
    assert row_font >= 28
    assert px(page, "#breached-count") >= 64 and page.locator("#breached-count").inner_text() == "10"
    assert px(page, "#data-age") >= row_font
    cut = page.evaluate("[...document.querySelectorAll('td.state, td.agent, td.status, td.prio')]"
                        ".filter(c => c.scrollWidth > c.clientWidth + 1).length")
    assert cut == 0
    assert page.locator("tr[data-id='1'] .state-word").inner_text().endswith("Overdue")
    assert page.errors == []


def test_a_small_queue_reads_large(gui_server, page) -> None:
    server = gui_server().start()
    queue(server.tickets, 8, breached=1)
    put_ticket(server.tickets, ticket(9, fr_due_by=iso_in(minutes=-1), stats=NOT_RESPONDED))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='9']")
    assert px(page, "tr[data-id='9'] td.subject") >= 32
    assert page.locator("tr[data-id='9'] .state-word").inner_text().endswith("FR overdue")
    assert page.evaluate("(() => { const c = document.querySelector(\"tr[data-id='9'] td.state\");"
                         " return c.scrollWidth <= c.clientWidth; })()")
    assert page.locator("tr.fold, tr.pager").count() == 0 and no_scroll(page)
    assert px(page, "#clock") >= px(page, "#next-breach")  # the clock at headline size


def test_what_still_does_not_fit_pages_in_place_and_breaches_stay(gui_server, page) -> None:
    server = gui_server(gui={"page_seconds": 2})
    server.start()
    for n in range(1, 81):  # nothing calm to fold: all critical, five breached
        put_ticket(server.tickets, ticket(n, due_by=iso_in(minutes=-n) if n <= 5 else iso_in(hours=2, minutes=n)))
    page.goto(server.url)
    wait_total(page, 80)
    page.wait_for_selector("tr.pager")
    assert no_scroll(page)
    indicator = page.locator(".section-page").first.inner_text()
    assert indicator.startswith("page ")
    first = page.locator("[data-section=open] tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)")
    page.wait_for_function("f => [...document.querySelectorAll('[data-section=open] tr[data-id]')]"
                           ".map(r => r.dataset.id).join() !== f.join()", arg=first, timeout=6000)
    second = page.locator("[data-section=open] tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert {"1", "2", "3", "4", "5"} <= set(first) & set(second)  # the breached rows stay put
    assert no_scroll(page)


def test_the_headline_leads_with_breaches_and_counts_only_the_rest_as_next(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1, due_by=iso_in(minutes=-30)))
    put_ticket(server.tickets, ticket(2, fr_due_by=iso_in(minutes=-5), stats=NOT_RESPONDED))
    put_ticket(server.tickets, ticket(3, due_by=iso_in(hours=1)))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='3']")
    assert page.locator("#breached-count").inner_text() == "2"
    assert page.locator("#breached-oldest").inner_text().startswith("oldest 30 min")
    assert page.locator("#next-breach-ticket").inner_text() == "#3"
    assert re.fullmatch(r"59 min \d\d s", page.locator("#next-breach").inner_text())  # words, seconds in the last hour


def test_zero_breaches_are_shown_calmly_and_nothing_blinks(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    assert page.locator("#breached-count").inner_text() == "0"
    animated = page.evaluate("[...document.querySelectorAll('*')].filter(e => "
                             "getComputedStyle(e).animationName !== 'none').length")
    assert animated == 0


def test_the_page_light_uses_the_desk_lights_colours(gui_server, page) -> None:
    server = gui_server(blinky={"effects": {"clear": "blue", "overdue": "strobe #ff8000"}}).start()
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_function("() => document.querySelector('#light').dataset.state === 'clear'")
    assert page.evaluate("getComputedStyle(document.querySelector('.bulb')).backgroundColor") == "rgb(0, 0, 255)"
    put_ticket(server.tickets, ticket(2, due_by=iso_in(minutes=-1)))
    page.wait_for_function("() => document.querySelector('#light').dataset.state === 'overdue'", timeout=5000)
    assert page.evaluate("getComputedStyle(document.querySelector('.bulb')).backgroundColor") == "rgb(255, 128, 0)"
    assert page.locator("#light").get_attribute("data-strobe") == "true"


def test_blinking_respects_reduced_motion(gui_server, browser) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1, fr_due_by=iso_in(minutes=-1), stats=NOT_RESPONDED))
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("tr[data-id='1']")
        animated = page.evaluate("[...document.querySelectorAll('*')].filter(e => "
                                 "getComputedStyle(e).animationName !== 'none').length")
        assert animated == 0
    finally:
        context.close()


def test_a_wall_rotates_its_views_and_names_each(gui_server, page) -> None:
    server = gui_server(**{"views.network": {"title": "Network team", "groups": [31000000002]},
                           "walls.lobby": {"views": ["all", "network"], "rotate_seconds": 5}})
    server.start()
    put_ticket(server.tickets, ticket(1))
    put_ticket(server.tickets, ticket(2, group_id=31000000002))
    page.goto(server.url + "/wall/lobby")
    page.wait_for_function("() => document.querySelector('#view-title').textContent.startsWith('All tickets (1/2)')")
    assert "Lobby" in page.title() and "Lobby" in page.locator("h1").inner_text()
    page.wait_for_function("() => document.querySelector('#view-title').textContent.startsWith('Network team (2/2)')",
                           timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('tr[data-id]').length === 1", timeout=5000)
    assert page.locator("#view-select").input_value() == "network"  # the selector follows the rotation
    page.select_option("#view-select", "all")  # a pick on a wall page is shown at once
    page.wait_for_function("() => document.querySelector('#view-title').textContent.startsWith('All tickets (1/2)')",
                           timeout=3000)
    assert page.url.endswith("/wall/lobby")
    assert page.goto(server.url + "/wall/nope").status == 404


def test_a_new_breach_chimes_but_not_in_quiet_hours(gui_server, page) -> None:
    server = gui_server(gui={"chime": True}).start()
    breach_while_watching(server, page, lambda: page.evaluate("window.__chimes") == 0)
    page.wait_for_function("() => window.__chimes === 1", timeout=5000)

    quiet = gui_server(gui={"chime": True, "chime_quiet_hours": "00:00-23:59"}).start()
    breach_while_watching(quiet, page)
    assert page.evaluate("window.__chimes") == 0


def test_chime_is_off_by_default(gui_server, page) -> None:
    breach_while_watching(gui_server().start(), page)
    assert page.evaluate("window.__chimes") == 0


def breach_while_watching(server, page, before=lambda: True) -> None:
    """A calm wall is open; then ticket 2 breaches and reaches the page."""
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    assert before()
    put_ticket(server.tickets, ticket(2, due_by=iso_in(minutes=-1)))
    page.wait_for_selector("tr[data-id='2']", timeout=5000)


def test_more_breaches_than_the_screen_holds_page_too(gui_server, page) -> None:
    server = gui_server(gui={"page_seconds": 2}).start()
    for n in range(1, 61):
        put_ticket(server.tickets, ticket(n, due_by=iso_in(minutes=-n)))
    page.goto(server.url)
    wait_total(page, 60)
    page.wait_for_selector("tr.pager")
    assert no_scroll(page) and page.locator("#breached-count").inner_text() == "60"
    shown = page.locator("tr[data-id]").count()
    assert shown >= 12 and on_screen(page, "tr[data-id]")
    first = page.locator("tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id).join()")
    page.wait_for_function("f => [...document.querySelectorAll('tr[data-id]')].map(r => r.dataset.id).join() !== f",
                           arg=first, timeout=6000)


def test_when_breaches_do_not_fit_every_frame_for_90_s_shows_only_breaches(gui_server, page) -> None:
    server = gui_server(gui={"page_seconds": 2}).start()
    queue(server.tickets, 400, breached=33)
    page.clock.install()  # the page's own clock, run 90 s ahead frame by frame
    page.goto(server.url)
    wait_total(page, 400)
    shown = "() => [...document.querySelectorAll('#sections tbody tr[data-id]')].map(r => r.dataset.id).join(',')"
    seen: set[str] = set()
    for frame in range(46):  # the first frame and 45 page turns
        if frame:
            page.clock.run_for(2000)
        states = page.evaluate("[...document.querySelectorAll('#sections tbody tr[data-id]')]"
                               ".map(r => r.className.split(' ')[0])")
        assert states and all(s in ("state-overdue", "state-fr_overdue") for s in states), (frame, states)
        seen |= set(page.evaluate(shown).split(","))
        assert no_scroll(page)
    folds = page.locator("tr.fold").all_inner_texts()
    assert any("paused" in f for f in folds) and any("on track" in f for f in folds) and any("warning" in f for f in folds)
    assert len(seen) == 33  # the breaches page among themselves, and every one gets its turn
    assert page.errors == []


def grow(folder, start: int, total: int) -> None:
    """Tickets *start*..*total* of one queue: a breach in every twelve, named agents and requesters."""
    for n in range(start, total + 1):
        fields = {"responder_id": 21000000001 + n % 4, "requester_id": 29000000001 + n % 3,
                  "subject": f"Printer on floor {n} prints every page twice and then jams on the last one"}
        if n % 12 == 1:
            fields["due_by"] = iso_in(minutes=-n)
        elif n % 5 == 0:
            fields["status"] = 3
        elif n % 3 == 0:
            fields["due_by"] = iso_in(hours=6)
        put_ticket(folder, ticket(n, **fields))


def discovered_names(folder) -> None:
    names = folder / "_names"
    names.mkdir(parents=True, exist_ok=True)
    (names / "agents.txt").write_text("21000000001:Anna Smith\n21000000002:Anna Schmidt\n"
                                      "21000000003:Bob Smith Jr.\n21000000004:Sam (night shift)\n")
    (names / "requesters.txt").write_text("29000000001:a.very.long.requester.address@example-company.com\n"
                                          "29000000002:Dave (Warehouse)\n29000000003:Carol from Accounts\n")


GRID = """() => {
  const rows = [...document.querySelectorAll('#sections tr[data-id]')];
  const edges = {};
  for (const cell of document.querySelectorAll('#sections td, #sections th')) {
    if (cell.colSpan > 1) continue;
    (edges[cell.className] ||= new Set()).add(Math.round(cell.getBoundingClientRect().left));
  }
  const widths = rows.length ? [...rows[0].children].map(c => [c.className, c.getBoundingClientRect().width]) : [];
  const table = rows.length ? rows[0].closest('table').getBoundingClientRect().width : 0;
  const outside = [...document.querySelectorAll('#sections td, #sections th, header *, footer *')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width && (r.right > innerWidth + 1 || r.left < 0); }).length;
  const sizes = [...document.querySelectorAll('body *')].filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
    && e.getClientRects().length && !e.closest('.sr-only, [hidden], .demo-ribbon')).map(e => parseFloat(getComputedStyle(e).fontSize));
  return {edges: Object.fromEntries(Object.entries(edges).map(([k, v]) => [k, v.size])), widths, table,
          outside, smallest: Math.min(...sizes)};
}"""


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=["1080p", "768p"])
def test_one_grid_at_every_queue_size_gives_the_subject_the_room(gui_server, browser, size) -> None:
    server = gui_server().start()
    discovered_names(server.tickets)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        page.goto(server.url)
        floor = max(18, size[1] * 0.026)  # the CSS --floor: 28 px at 1080p
        done = 0
        for total in (0, 5, 40, 120, 400):
            grow(server.tickets, done + 1, total)
            done = total
            wait_total(page, total)
            page.wait_for_function("() => document.querySelectorAll('#sections .section').length === 3")
            grid = page.evaluate(GRID)
            assert no_scroll(page), total
            assert grid["outside"] == 0, total
            assert grid["smallest"] >= floor - 0.5, (total, grid["smallest"])
            assert all(n == 1 for n in grid["edges"].values()), (total, grid["edges"])  # columns line up
            if total:
                widths = dict(grid["widths"])
                assert max(widths, key=widths.get) == "subject", (total, widths)
                assert widths["subject"] >= 0.4 * grid["table"], (total, widths)
            else:
                assert page.locator("#breached-count").inner_text() == "0"
                assert page.locator(".section.empty").count() == 3 and page.locator("#sections table").count() == 0
        assert page.locator("#sections thead").count() == 1  # the heads once, for every section
    finally:
        context.close()


def test_few_rows_wrap_their_subjects_and_names_shorten_only_to_fit(gui_server, page) -> None:
    server = gui_server().start()
    discovered_names(server.tickets)
    grow(server.tickets, 1, 4)
    page.goto(server.url)
    wait_total(page, 4)
    assert page.evaluate("document.getElementById('sections').classList.contains('wrap')")
    subject = page.locator("tr[data-id='1'] td.subject span")
    assert subject.evaluate("e => e.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(e).lineHeight)")
    agents = set(page.locator("td.agent").all_inner_texts())
    assert agents <= {"Anna Smith", "Anna Sm.", "Anna Sc.", "Bob Smith Jr.", "Bob S. Jr.", "Sam (night shift)", "Sam"}, agents
    assert not {"Anna S.", "Bob J.", "Sam s."} & agents


# What a name becomes when its column holds only *room* characters (None: nothing fits).
NAMES = [
    (["Dave (Warehouse)"], None, ["Dave"]),
    (["Carol from Accounts"], 12, ["Carol"]),
    (["Sam (night shift)"], 10, ["Sam"]),
    (["Bob Smith Jr."], 10, ["Bob S. Jr."]),
    (["Anna Smith", "Anna Schmidt"], 8, ["Anna Sm.", "Anna Sc."]),
    (["Anna Smith", "Anna Schmidt"], 20, ["Anna Smith", "Anna Schmidt"]),
    (["Ada Lovelace", "Grace Hopper"], 8, ["Ada L.", "Grace H."]),
    (["Ada Lovelace", "Grace Hopper"], 5, ["Ada", "Grace"]),
    (["Dr. Grace Hopper"], 12, ["Dr. Grace H."]),
    (["Ludwig van Beethoven"], 13, ["Ludwig van B."]),
    (["\u0633\u0627\u0631\u0627 \u0627\u0644\u0639\u0644\u064a"], None, ["\u0633\u0627\u0631\u0627 \u0627\u0644\u0639\u0644\u064a"]),
    (["\u5c71\u7530 \u592a\u90ce", "\u5c71\u7530 \u82b1\u5b50"], None, ["\u5c71\u7530 \u592a\u90ce", "\u5c71\u7530 \u82b1\u5b50"]),
    (["Requester 29000000001"], None, ["Requester 29000000001"]),
    (["Anna Smith", "Anna Smith"], 7, ["Anna S."]),  # one person twice is one name
]


def test_a_table_of_names_and_their_short_forms(gui_server, page) -> None:
    server = gui_server().start()
    page.goto(server.url)
    for names, room, expected in NAMES:
        got = page.evaluate("([names, room]) => { const chosen = shortNames(new Set(names), new Set(),"
                            " (t) => room !== null && t.length <= room); return [...new Set(names)].map(n => chosen.get(n)); }",
                            [names, room])
        assert got == expected, (names, room, got)
    written = page.evaluate("() => shortNames(new Set(['Anna Smith-Example']), new Set(['Anna Smith-Example']), () => false)"
                            ".get('Anna Smith-Example')")
    assert written == "Anna Smith-Example"  # a name a person wrote is final


def test_a_name_someone_wrote_is_shown_as_written(gui_server, page) -> None:
    server = gui_server()
    discovered_names(server.tickets)
    (server.config.parent / "agents.txt").write_text("21000000002:Anna Schmidt-Oberhausen (Service Desk)\n")
    server.start()
    put_ticket(server.tickets, ticket(1, responder_id=21000000002))
    put_ticket(server.tickets, ticket(2, responder_id=21000000001))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='2']")
    assert page.locator("tr[data-id='1'] td.agent").inner_text() == "Anna Schmidt-Oberhausen (Service Desk)"
    assert page.locator("tr[data-id='1'] td.agent").evaluate("c => c.scrollWidth > c.clientWidth")  # ellipsized, not cut
    assert page.locator("tr[data-id='2'] td.agent").inner_text() == "Anna Smith"


def test_a_typo_in_the_agent_id_is_an_error_on_the_page(gui_server, page) -> None:
    server = gui_server().start()
    discovered_names(server.tickets)
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url + "/?agent=2100000000")
    page.wait_for_function("() => document.querySelector('#light').dataset.state === 'error'")
    assert "unknown agent 2100000000" in page.locator("#stale-banner").inner_text()
    assert page.locator("#light-label").inner_text() != "All clear"
