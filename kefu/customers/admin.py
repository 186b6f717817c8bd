from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from kefu.compliance import privacy

from . import queries
from .models import Customer, IdentityKind


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """A buyer's identities are listed masked and read only (not as an inline,
    whose rows would print the plain value): staff who need a phone number
    reveal it in the workbench, with a reason that goes into the audit log."""

    list_display = ("masked_name", "shop", "tier", "owner", "created_at")
    list_filter = ("tier", "shop")
    search_fields = ("name",)
    readonly_fields = ("identities",)

    @admin.display(description=_("name"), ordering="name")
    def masked_name(self, customer: Customer) -> str:
        return privacy.mask_text(customer.name)

    @admin.display(description=_("identities"))
    def identities(self, customer: Customer) -> str:
        if customer.pk is None:
            return "-"
        labels = dict(IdentityKind.choices)
        rows = [queries.masked_identity(i) for i in customer.identities.order_by("id")]
        return (
            format_html_join(
                "",
                "<div>{}: <span class='mono'>{}</span></div>",
                ((labels.get(row["kind"], row["kind"]), row["value"]) for row in rows),
            )
            or "-"
        )
