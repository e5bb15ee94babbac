"""Four browser scenarios, each through the real pages, the live server and the live worker.

The pages are in Chinese (the browsers ask for zh-CN, as a district office's do), so the
assertions look for the catalogue's Chinese (`zh`, `zh_label`) rather than for English;
elements are found by id where the templates give one, else by form field name or role.
Steps that are not the point of a scenario (raising the whistle of scenarios b–d) go
through the services, as another user would have done on another day.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from escalation.models import SupervisionOrder
from escalation.services import deadlines_sweep, open_tasks_tally
from tests.browser.helpers import wait_for_whistle, zh, zh_label
from tests.factories import submit_whistle
from whistle.models import Feedback, Rating, Task, Whistle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

S, T = Whistle.Status, Task.Status
NUMBER = re.compile(r"/whistles/(S01-\d{4}-\d{6})/$")


def raise_whistle(cast, live_worker, **fields) -> Whistle:
    """A whistle of S01 raised by its staff through the service and routed by the live worker."""
    whistle = submit_whistle(cast.s01_staff, **fields).whistle
    return wait_for_whistle(
        whistle.number, [S.ROUTED, S.AWAITING_DISPATCH], live_worker, what=f"routing of {whistle.number}"
    )


def open_task(page: Page, number: str) -> None:
    """On the department's task list, open its task of the whistle."""
    expect(page).to_have_url(re.compile(r"/tasks/$"))
    page.locator("table.task-table tbody tr", has_text=number).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+/$"))
    expect(page.locator("h1")).to_contain_text(number)


def expect_task_status(page: Page, status: Task.Status) -> None:
    expect(page.locator("#task-status")).to_have_text(zh_label(status))


def expect_whistle_status(page: Page, status: Whistle.Status) -> None:
    expect(page.locator("#whistle-status")).to_have_text(zh_label(status))


def check_in(page: Page, *, note: str, lon: str = "", lat: str = "") -> None:
    form = page.locator("#action-check-in")
    if lon:
        form.locator('input[name="lon"]').fill(lon)
        form.locator('input[name="lat"]').fill(lat)
    form.locator('textarea[name="note"]').fill(note)
    form.get_by_role("button", name=zh("Check in"), exact=True).click()
    expect_task_status(page, T.CHECKED_IN)


def close_with_feedback(page: Page, *, actions: str, result: str = Feedback.Result.SOLVED) -> None:
    form = page.locator("#action-close")
    form.locator('textarea[name="actions"]').fill(actions)
    form.locator(f'input[name="result"][value="{result}"]').check()
    form.get_by_role("button", name=zh("Close the task")).click()
    expect_task_status(page, T.CLOSED)
    expect(page.locator("#task-feedback")).to_contain_text(actions)


# a. Raise on the map → route → acknowledge, check in, close → confirm and rate ----------------------


def test_a_whistle_raised_on_the_map_is_reported_in_closed_confirmed_and_rated(cast, live_worker, sign_in, screenshot):
    street = sign_in("s01_staff", "/whistles/new/")
    form = street.locator("#whistle-form")
    grids = street.locator("#whistle-map path.leaflet-interactive")
    expect(grids).to_have_count(2)  # the street's two grids, drawn from grids.geojson
    form.locator('select[name="category"]').select_option("ENV-COMPOUND")
    form.locator('[name="source"]').select_option("street")
    form.locator('input[name="title"]').fill("3号楼楼道堆物")
    form.locator('textarea[name="description"]').fill("3号楼1单元楼道堆满杂物，堵塞消防通道，居民多次反映。")
    form.locator('input[name="address"]').fill("百泉第1社区3号楼1单元")
    # The grid under the pointer names itself in a tooltip; a click inside it marks the place.
    grid = grids.first
    grid.hover()
    tooltip = street.locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text(re.compile(r"S01C01G0[12]"))
    grid_code = re.search(r"S01C01G0[12]", tooltip.inner_text()).group(0)
    grid.click()
    expect(street.locator("#whistle-point")).to_have_text(re.compile(r"^115\.9\d{4,}, 40\.4\d{4,}$"))
    expect(form.locator('input[name="lon"]')).to_have_value(re.compile(r"^115\.9"))
    screenshot(street, "street-marks-the-place-on-the-map")
    form.get_by_role("button", name=zh("Raise the whistle")).click()

    expect(street).to_have_url(NUMBER)
    number = NUMBER.search(street.url).group(1)
    expect(street.locator(".whistle-messages .alert-success")).to_contain_text(number)
    expect(street.locator("#whistle-details")).to_contain_text(grid_code)
    wait_for_whistle(number, [S.ROUTED], live_worker, what=f"routing of {number}")
    street.reload()
    expect_whistle_status(street, S.ROUTED)
    tasks = street.locator("#whistle-tasks tbody tr")
    expect(tasks).to_have_count(3)
    expect(tasks.filter(has_text="D13")).to_contain_text(zh_label(Task.Status.PENDING))
    screenshot(street, "whistle-routed-to-three-departments")

    # The lead department takes the task, reports in on site.
    lead = sign_in("d13_staff", "/tasks/")
    open_task(lead, number)
    expect_task_status(lead, T.PENDING)
    screenshot(lead, "lead-opens-its-task")
    lead.locator("#action-acknowledge").get_by_role("button").click()
    expect_task_status(lead, T.ACKNOWLEDGED)
    check_in(lead, lon="115.975", lat="40.465", note="城管执法队已到现场")
    expect(lead.locator("#task-deadlines")).to_contain_text("城管执法队已到现场")
    screenshot(lead, "lead-checked-in")

    # The lead closes last: the co-operating departments report in and close their parts first.
    for username, actions in (("d12_staff", "督促物业清理楼道"), ("e06_staff", "清运杂物两车")):
        co_operating = sign_in(username, "/tasks/")
        open_task(co_operating, number)
        check_in(co_operating, note="到场配合")
        close_with_feedback(co_operating, actions=actions)
        screenshot(co_operating, f"{username.removesuffix('_staff')}-closed-its-part")
        co_operating.context.close()

    lead.reload()
    close_with_feedback(lead, actions="会同住建委、环卫集团清理楼道堆物，恢复消防通道。")
    screenshot(lead, "lead-closed-with-feedback")

    # The street accepts the result and rates the lead department.
    street.reload()
    expect_whistle_status(street, S.RESOLVED)
    street.locator("#action-confirm").get_by_role("button").click()
    expect_whistle_status(street, S.CLOSED)
    rate = street.locator("#action-rate")
    rate.locator('select[name="department"]').select_option("D13")
    rate.locator('select[name="response"]').select_option("5")
    rate.locator('select[name="attitude"]').select_option("5")
    rate.locator('select[name="result"]').select_option("4")
    rate.locator('textarea[name="comment"]').fill("响应及时")
    rate.get_by_role("button", name=zh("Rate"), exact=True).click()
    rating = street.locator("#whistle-ratings tbody tr", has_text="D13")
    expect(rating).to_contain_text("响应及时")
    expect(rating.locator("td")).to_have_text([re.compile("D13"), "5", "5", "4", "响应及时"])
    screenshot(street, "street-confirmed-and-rated")

    whistle = Whistle.objects.get(number=number)
    assert whistle.status == S.CLOSED
    assert sorted(whistle.tasks.values_list("department__code", "status")) == [
        ("D12", T.CLOSED),
        ("D13", T.CLOSED),
        ("E06", T.CLOSED),
    ]
    assert list(Rating.objects.filter(whistle=whistle).values_list("department__code", flat=True)) == ["D13"]


# b. A mis-routed task is returned and re-routed by the dispatcher ------------------------------------


def test_b_a_returned_task_is_rerouted_by_the_dispatcher_to_another_department(cast, live_worker, sign_in, screenshot):
    # Stalls on the pavement, raised as public order: the rules send it to the police station.
    whistle = raise_whistle(
        cast,
        live_worker,
        category="ORDER-PUBLIC",
        title="人行道占道经营",
        description="百泉路人行道早市摊位占道经营，行人只能走机动车道。",
    )
    assert whistle.status == S.ROUTED
    number = whistle.number

    police = sign_in("t01_staff", "/tasks/")
    open_task(police, number)
    expect_task_status(police, T.PENDING)
    form = police.locator("#action-return")
    form.locator('select[name="reason_code"]').select_option(Task.ReturnReason.NOT_OURS)
    form.locator('textarea[name="reason"]').fill("占道经营属城市管理执法职责，不属治安案件。")
    form.locator('select[name="suggested_department"]').select_option("D13")
    form.get_by_role("button", name=zh("Return to the street")).click()
    expect_task_status(police, T.RETURNED)
    expect(police.locator("#task-return")).to_contain_text(zh_label(Task.ReturnReason.NOT_OURS))
    screenshot(police, "police-returns-the-task")

    dispatcher = sign_in("s01_dispatcher", "/whistles/queue/")
    queued = dispatcher.locator("table.whistle-table tbody tr", has_text=number)
    expect(queued).to_contain_text(zh_label(S.AWAITING_DISPATCH))
    screenshot(dispatcher, "dispatch-queue")
    queued.get_by_role("link", name=number).click()
    expect_whistle_status(dispatcher, S.AWAITING_DISPATCH)
    expect(dispatcher.locator("#whistle-tasks tbody tr", has_text="T01")).to_contain_text(zh_label(T.RETURNED))
    form = dispatcher.locator("#action-dispatch")
    form.locator('select[name="lead"]').select_option("D13")
    form.locator('textarea[name="note"]').fill("占道经营由城管委牵头处置。")
    form.get_by_role("button", name=zh("Dispatch"), exact=True).click()
    expect_whistle_status(dispatcher, S.ROUTED)
    rerouted = dispatcher.locator("#whistle-tasks tbody tr", has_text="D13")
    expect(rerouted).to_contain_text(zh_label(T.PENDING))
    expect(dispatcher.locator("#whistle-routing")).to_contain_text("占道经营由城管委牵头处置。")
    screenshot(dispatcher, "dispatcher-rerouted-to-d13")

    city = sign_in("d13_staff", "/tasks/")
    expect(city.locator("table.task-table tbody tr", has_text=number)).to_contain_text(zh_label(T.PENDING))
    screenshot(city, "d13-sees-the-task")
    open_task(city, number)
    expect_task_status(city, T.PENDING)
    expect(city.locator("#task-actions #action-acknowledge")).to_be_visible()

    assert sorted(Task.objects.filter(whistle=whistle).values_list("department__code", "role", "status")) == [
        ("D13", "lead", T.PENDING),
        ("T01", "lead", T.RETURNED),
    ]


# c. Past a deadline: red on the dashboard, with its supervision order ------------------------------


def test_c_past_its_deadline_a_task_is_red_on_the_dashboard_with_its_supervision_order(
    cast, live_worker, sign_in, screenshot
):
    # A priority whistle: acknowledge within 30 minutes, a supervision order as soon as it is late.
    whistle = raise_whistle(
        cast,
        live_worker,
        category="ORDER-PUBLIC",
        title="小区门口聚集滋事",
        description="百泉第1社区东门夜间多人聚集饮酒滋事。",
    )
    task = Task.objects.get(whistle=whistle, department=cast.t01)
    assert task.status == T.PENDING

    # The live server runs in a thread of this process: it travels too (tick: its clock goes on).
    with time_machine.travel(task.acknowledge_due_at + timedelta(minutes=10), tick=True):
        # What beat does every minute, run here at the travelled time.
        swept = deadlines_sweep()
        open_tasks_tally()
        assert swept.steps["acknowledge_overdue"] == 1
        assert swept.steps["supervision"] == 1
        order = SupervisionOrder.objects.get(task=task)

        supervisor = sign_in("supervisor", "/supervision/")
        row = supervisor.locator(f"#late-tasks tr#task-{task.pk}")
        expect(row).to_have_attribute("data-light", "red")
        expect(row.locator(".light-red")).to_have_text(zh("overdue"))
        expect(row).to_contain_text(whistle.number)
        police_counts = supervisor.locator('#department-counts tr[data-unit="T01"]')
        expect(police_counts.locator('[data-count="overdue"]')).to_have_text("1")
        expect(supervisor.locator('#dashboard-totals [data-count="overdue"]')).to_have_text("1")
        screenshot(supervisor, "dashboard-shows-the-task-red")

        row.get_by_role("link", name=zh("open order")).click()
        expect(supervisor).to_have_url(re.compile(rf"/supervision/orders/{order.pk}/$"))
        expect(supervisor.locator("h1")).to_contain_text(order.number)
        expect(supervisor.locator("#order-body")).to_contain_text(whistle.number)
        expect(supervisor.locator("main .light-red").first).to_have_text(zh("overdue"))
        screenshot(supervisor, "supervision-order")


# d. The same page in English ---------------------------------------------------------------------


@pytest.mark.browser_context_args(locale="fr-FR")
def test_d_pages_are_chinese_by_default_and_english_at_the_header_button(cast, live_worker, sign_in, screenshot):
    """A browser asking for neither language (here French) gets the default, Chinese."""
    whistle = raise_whistle(cast, live_worker, title="楼道堆物")
    page = sign_in("d13_staff", "/tasks/")
    html, heading = page.locator("html"), page.locator("main h1")
    row = page.locator("table.task-table tbody tr", has_text=whistle.number)
    expect(html).to_have_attribute("lang", "zh-hans")
    assert re.search(r"[\u4e00-\u9fff]", zh("Tasks")), "the catalogue has no Chinese for 'Tasks'"
    expect(heading).to_have_text(zh("Tasks"))
    expect(row).to_contain_text(zh_label(T.PENDING))
    screenshot(page, "task-list-in-chinese")

    page.locator('header button[name="language"][value="en"]').click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/tasks/$"))  # back on the same page
    expect(heading).to_have_text("Tasks")
    expect(row).to_contain_text("waiting for acknowledgement")
    expect(page.locator("nav.whistle-nav")).to_contain_text("Whistles")
    screenshot(page, "task-list-in-english")

    # The choice holds on the next page.
    row.get_by_role("link").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("#task-status")).to_have_text("waiting for acknowledgement")
    expect(page.locator("#task-actions")).to_contain_text("What you can do")
    screenshot(page, "task-in-english")

    page.locator('header button[name="language"][value="zh-hans"]').click()
    expect(html).to_have_attribute("lang", "zh-hans")
    expect_task_status(page, T.PENDING)
    expect(page.locator("#task-actions h2")).to_have_text(zh("What you can do"))
