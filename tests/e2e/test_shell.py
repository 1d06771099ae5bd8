import pytest

from contacts.services.contacts import contact_create
from messaging.services.sending import message_send
from tenants.models import Membership, Organization, Role
from tests.e2e.helpers import log_in, unlabelled_fields
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, DESKTOP = 390, 1280


def test_a_newcomer_signs_up_with_the_keyboard_alone(open_page):
    page = open_page()
    page.goto("/signup/")
    page.focus("#id_full_name")
    page.keyboard.type("Grace Hopper")
    page.keyboard.press("Tab")
    page.keyboard.type("grace@navy.example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type("Navy Texts")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text-is('Navy Texts')")
    assert "Welcome to SMS Hub" in page.locator(".flash").inner_text()
    membership = Membership.objects.get(user__email="grace@navy.example.com")
    assert (membership.organization.name, membership.role) == ("Navy Texts", Role.OWNER)


def test_every_field_has_a_label(open_page, personas):
    page = open_page()
    log_in(page, "owner@a.example.com")
    for path in [
        "/settings/",
        "/settings/members/",
        "/settings/api-keys/",
        "/settings/delete/",
        "/connections/twilio/connect/",
        "/contacts/",
        "/contacts/new/",
        "/messages/",
    ]:
        assert page.goto(path).url.endswith(path)
        unlabelled = unlabelled_fields(page)
        assert unlabelled == [], f"{path}: {unlabelled}"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_pages_fit_the_screen(open_page, personas, width):
    page = open_page(width=width)
    log_in(page, "owner@a.example.com")
    contact_create(
        organization=personas.org,
        source="ui",
        phone="+1 415 555 0123",
        first_name="Ann",
        tags=["vip", "newsletter"],
    )
    message = message_send(
        organization=personas.org,
        to="+1 415 555 0123",
        body="A long message without spaces: " + "x" * 300,
        source="ui",
    )
    for path in [
        "/",
        "/settings/",
        "/settings/members/",
        "/settings/api-keys/",
        "/connections/",
        "/connections/twilio/connect/",
        "/contacts/",
        "/contacts/new/",
        "/messages/",
        f"/messages/{message.public_id}/",
    ]:
        response = page.goto(path)
        assert response.status == 200
        assert response.url.endswith(path)
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # CSS loaded
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px screen"


def test_the_organization_switcher_works_from_the_keyboard(open_page, personas):
    Membership.objects.create(
        organization=personas.other_org, user=personas.owner, role=Role.VIEWER
    )
    page = open_page()
    log_in(page, "owner@a.example.com")
    page.focus(".switcher summary")
    page.keyboard.press("Enter")
    page.get_by_role("menuitem", name="Beta B").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text-is('Beta B')")
    assert "Switched to Beta B." in page.locator(".flash").inner_text()
    assert Organization.objects.count() == 2


def test_the_contact_page_loads_its_messages(open_page, personas):
    contact = contact_create(organization=personas.org, source="ui", phone="+1 415 555 0123")
    message_send(
        organization=personas.org, contact=contact, body="Hello from the test", source="ui"
    )
    page = open_page()
    log_in(page, "owner@a.example.com")
    page.goto(f"/contacts/{contact.public_id}/")
    page.wait_for_selector("[data-fragment] >> text=Hello from the test")
    assert "No working Twilio connection" in page.inner_text("[data-fragment]")


def test_the_message_log_loads_its_counts(open_page, personas):
    for n in range(3):
        message_send(organization=personas.org, to="+1 415 555 0123", body=f"n{n}", source="ui")
    page = open_page()
    log_in(page, "owner@a.example.com")
    page.goto("/messages/")
    page.wait_for_selector(".status-counts >> text=Suppressed 3")
    page.click(".status-counts >> text=Suppressed")
    page.wait_for_selector("h1:text-is('Messages')")
    assert page.url.endswith("/messages/?status=suppressed")
    assert page.locator("select#id_status").input_value() == "suppressed"


def test_the_top_bar_is_one_row_at_1280_px_even_with_long_names(open_page, personas):
    page = open_page(width=DESKTOP)
    log_in(page, "owner@a.example.com")
    personas.org.name = "Northwind Traders International Holdings"
    personas.org.save()
    personas.owner.full_name = "Bartholomew-Christopher Longname"
    personas.owner.save()

    page.goto("/contacts/")

    rows = {
        round(page.locator(selector).bounding_box()["y"] // 20)
        for selector in (".brand", ".mainnav", ".switcher", ".topbar-end")
    }
    assert len(rows) == 1, rows
    assert page.locator("header.topbar").bounding_box()["height"] < 70
    # The names are cut short on screen, whole for screen readers and in the menus.
    assert (
        page.locator(".switcher .org-name").text_content()
        == "Northwind Traders International Holdings"
    )
    assert page.evaluate("document.documentElement.scrollWidth") == DESKTOP


def test_an_everyday_organization_name_is_shown_whole_at_1280_px(open_page, personas):
    personas.org.name = "Demo Organization"
    personas.org.save()
    page = open_page(width=DESKTOP)
    log_in(page, "owner@a.example.com", organization="Demo Organization")

    name = page.locator(".switcher .org-name")
    # Not cut short: the text's own width fits the box it is shown in.
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth") is True
    assert page.locator(".switcher > summary .role-badge").is_hidden()
    assert "Owner" in page.locator(".switcher .menu-panel").text_content()


def test_on_a_phone_the_areas_fold_behind_menu_opened_by_keyboard(open_page, personas):
    page = open_page(width=PHONE)
    log_in(page, "owner@a.example.com")
    page.goto("/contacts/")
    toggle = page.locator(".nav-toggle")
    assert toggle.is_visible()
    assert not page.locator(".mainnav a", has_text="Automations").is_visible()

    toggle.focus()
    page.keyboard.press("Enter")

    assert toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Dashboard"
    page.locator(".mainnav a", has_text="Automations").click()
    page.wait_for_selector("h1:text-is('Automations')")
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE


def test_on_a_desktop_there_is_no_menu_button(open_page, personas):
    page = open_page(width=DESKTOP)
    log_in(page, "owner@a.example.com")

    assert not page.locator(".nav-toggle").is_visible()
    assert page.locator(".mainnav a", has_text="Automations").is_visible()
