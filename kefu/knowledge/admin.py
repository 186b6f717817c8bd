"""Back office for the knowledge base, scoped to the shops the staff user edits
(supervisors, trainers, admins; superusers see all). Every save goes through
the actions, so the admin versions FAQs and bumps the search revision too."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kefu.accounts.models import Shop
from kefu.core import tabular
from kefu.core.errors import ActionError

from . import actions, queries
from .models import Case, Faq, FaqVersion, Manual, QuickReply, Script, Synonym

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class LinesField(forms.CharField):
    """A JSON list of texts edited as one text per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, encoder=None, decoder=None, **kwargs):
        # A JSONField's formfield() passes these; lines need neither.
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ShopScopedAdmin(admin.ModelAdmin):
    def editable_shop_ids(self, request) -> frozenset[int]:
        return queries.editable_shop_ids(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(shop_id__in=self.editable_shop_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shop":
            kwargs["queryset"] = Shop.objects.filter(id__in=self.editable_shop_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _field_errors(self, form, call):
        """Run an action's validation; its InvalidField becomes a form error."""
        try:
            return call()
        except actions.InvalidField as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        except ActionError as error:
            form.add_error(None, error.message)
        return None


# --- FAQs ----------------------------------------------------------------------------


class FaqForm(forms.ModelForm):
    paraphrases = LinesField(
        label=_("Other phrasings"), required=False, help_text=_("One per line.")
    )
    products = LinesField(label=_("Products"), required=False, help_text=_("One per line."))
    note = forms.CharField(label=_("Change note"), required=False, max_length=200)

    class Meta:
        model = Faq
        fields = ("shop", *actions.FAQ_FIELDS)

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in actions.FAQ_FIELDS if name in cleaned}
        try:
            actions.clean_faq_fields(fields, {})
        except actions.InvalidField as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


class FaqVersionInline(admin.TabularInline):
    model = FaqVersion
    extra = 0
    can_delete = False
    fields = ("version", "changed_at", "changed_by", "note", "compare")
    readonly_fields = fields
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Compare"))
    def compare(self, version: FaqVersion):
        if version.version <= 1:
            return "—"
        url = reverse("admin:knowledge_faq_diff", args=[version.faq_id])
        return format_html(
            '<a href="{}?a={}&amp;b={}">{}</a>',
            url,
            version.version - 1,
            version.version,
            _("Changes from the previous version"),
        )


@admin.register(Faq)
class FaqAdmin(ShopScopedAdmin):
    form = FaqForm
    list_display = (
        "question",
        "shop",
        "language",
        "category",
        "status",
        "version",
        "usage_count",
        "accepted_count",
        "rejected_count",
        "review_due",
        "updated_at",
    )
    list_filter = ("shop", "status", "language", "category")
    search_fields = ("question", "answer", "intent")
    readonly_fields = (
        "version",
        "usage_count",
        "accepted_count",
        "rejected_count",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    )
    inlines = [FaqVersionInline]
    actions = ["publish", "archive", "export_csv", "export_xlsx"]
    change_list_template = "knowledge/admin/change_list_import.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                {"kind": "faqs"},
                name="knowledge_faq_import",
            ),
            path(
                "<int:faq_id>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="knowledge_faq_diff",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in actions.FAQ_FIELDS}
        faq = actions.save_faq(
            request.user,
            form.cleaned_data["shop"],
            fields,
            faq_id=obj.pk if change else None,
            note=form.cleaned_data.get("note", ""),
        )
        obj.__dict__.update({k: v for k, v in faq.__dict__.items() if not k.startswith("_")})

    def delete_model(self, request, obj):
        actions.delete_faq(request.user, obj.pk)

    def delete_queryset(self, request, queryset):
        for faq_id in queryset.values_list("id", flat=True):
            actions.delete_faq(request.user, faq_id)

    @admin.action(description=_("Publish the selected FAQs"))
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            actions.publish_faq,
            lambda n: ngettext("Published %(count)d FAQ.", "Published %(count)d FAQs.", n),
        )

    @admin.action(description=_("Archive the selected FAQs"))
    def archive(self, request, queryset):
        self._each(
            request,
            queryset,
            actions.archive_faq,
            lambda n: ngettext("Archived %(count)d FAQ.", "Archived %(count)d FAQs.", n),
        )

    def _each(self, request, queryset, action, done_message):
        count = 0
        for faq in queryset:
            try:
                action(request.user, faq.id)
                count += 1
            except ActionError as error:
                self.message_user(
                    request,
                    _("%(question)s: %(error)s")
                    % {"question": faq.question, "error": error.message},
                    messages.ERROR,
                )
        self.message_user(request, done_message(count) % {"count": count})

    @admin.action(description=_("Export the selected FAQs (CSV)"))
    def export_csv(self, request, queryset):
        return export_response(self, request, queryset, "faqs", "csv")

    @admin.action(description=_("Export the selected FAQs (Excel)"))
    def export_xlsx(self, request, queryset):
        return export_response(self, request, queryset, "faqs", "xlsx")

    def import_view(self, request, kind):
        return import_view(self, request, kind)

    def diff_view(self, request, faq_id: int):
        faq = get_object_or_404(self.get_queryset(request), id=faq_id)
        versions = {v.version: v for v in faq.versions.select_related("changed_by")}

        def version_number(name: str, default: int) -> int:
            value = request.GET.get(name, "")
            return int(value) if value.isdigit() and int(value) in versions else default

        newest = max(versions) if versions else 0
        b = version_number("b", newest)
        a = version_number("a", max(b - 1, min(versions) if versions else 0))
        rows = []
        if a in versions and b in versions:
            old, new = versions[a].snapshot, versions[b].snapshot
            for name in actions.FAQ_FIELDS:
                before, after = old.get(name), new.get(name)
                rows.append(
                    {
                        "field": getattr(Faq._meta.get_field(name), "verbose_name", name),
                        "before": _as_text(before),
                        "after": _as_text(after),
                        "changed": before != after,
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Compare versions"),
            "faq": faq,
            "versions": sorted(versions.values(), key=lambda v: v.version),
            "a": versions.get(a),
            "b": versions.get(b),
            "rows": rows,
        }
        return TemplateResponse(request, "knowledge/admin/faq_diff.html", context)


def _as_text(value) -> str:
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return "" if value is None else str(value)


def export_response(model_admin, request, queryset, kind: str, fmt: str):
    shop_ids = set(queryset.values_list("shop_id", flat=True))
    if len(shop_ids) != 1:
        model_admin.message_user(
            request, _("Select rows of exactly one shop to export."), messages.ERROR
        )
        return None
    shop = Shop.objects.get(id=shop_ids.pop())
    stream = io.BytesIO()
    tabular.export_table(
        kind,
        stream,
        fmt,
        shop=shop,
        ids=list(queryset.values_list("id", flat=True)),
        actor=request.user,
    )
    response = HttpResponse(stream.getvalue(), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-{kind}.{fmt}"'
    return response


class ImportForm(forms.Form):
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none())
    file = forms.FileField(label=_("File (.csv or .xlsx)"))
    atomic = forms.BooleanField(
        label=_("Store nothing if any row is rejected"), required=False, initial=True
    )

    def __init__(self, *args, shop_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        shops = Shop.objects.filter(id__in=list(shop_ids)).order_by("id")
        self.fields["shop"].queryset = shops  # type: ignore[attr-defined]
        if len(shops) == 1:
            self.fields["shop"].initial = shops[0]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        try:
            tabular.format_of(upload.name)
        except tabular.TableError as error:
            raise forms.ValidationError(str(error)) from None
        return upload


def import_view(model_admin, request, kind: str):
    if not model_admin.has_add_permission(request):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return render_import(model_admin, request, kind, model_admin.editable_shop_ids(request))


def render_import(model_admin, request, kind: str, shop_ids):
    """The admin's spreadsheet import page for `kind` into one of `shop_ids`
    (the caller has checked the permission)."""
    form = ImportForm(request.POST or None, request.FILES or None, shop_ids=shop_ids)
    report = None
    file_error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = tabular.run_import(
                kind,
                upload.read(),
                upload.name,
                shop=form.cleaned_data["shop"],
                user=request.user,
                atomic=form.cleaned_data["atomic"],
            )
        except tabular.TableError as error:
            file_error = str(error)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import %(kind)s") % {"kind": model_admin.model._meta.verbose_name_plural},
        "form": form,
        "report": report,
        "file_error": file_error,
        "columns": tabular.get_importer(kind).columns,
    }
    return TemplateResponse(request, "knowledge/admin/import.html", context)


# --- quick replies -------------------------------------------------------------------


@admin.register(QuickReply)
class QuickReplyAdmin(ShopScopedAdmin):
    """Team replies (and the staff user's own); other agents' replies stay private."""

    list_display = ("shortcut", "title", "shop", "category", "owner", "language", "usage_count")
    list_filter = ("shop", "category", "language")
    search_fields = ("shortcut", "title", "text")
    fields = ("shop", "category", "title", "shortcut", "text", "language", "position")
    actions = ["export_csv", "export_xlsx"]
    change_list_template = "knowledge/admin/change_list_import.html"

    def get_queryset(self, request):
        from django.db.models import Q

        return (
            super()
            .get_queryset(request)
            .filter(Q(owner__isnull=True) | Q(owner_id=request.user.id))
        )

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                {"kind": "quick-replies"},
                name="knowledge_quickreply_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request, kind):
        return import_view(self, request, kind)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        admin_self = self

        class Form(form_class):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                data = {name: cleaned.get(name) for name in actions.REPLY_FIELDS}
                admin_self._field_errors(self, lambda: actions.clean_quick_reply_fields(data, {}))
                return cleaned

        return Form

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in actions.REPLY_FIELDS}
        reply, _changed = actions.save_quick_reply(
            request.user,
            form.cleaned_data["shop"],
            data,
            reply_id=obj.pk if change else None,
        )
        obj.pk = reply.pk

    def delete_model(self, request, obj):
        actions.delete_quick_reply(request.user, obj.pk)

    def delete_queryset(self, request, queryset):
        for reply_id in queryset.values_list("id", flat=True):
            actions.delete_quick_reply(request.user, reply_id)

    @admin.action(description=_("Export the selected quick replies (CSV)"))
    def export_csv(self, request, queryset):
        return export_response(
            self, request, queryset.filter(owner__isnull=True), "quick-replies", "csv"
        )

    @admin.action(description=_("Export the selected quick replies (Excel)"))
    def export_xlsx(self, request, queryset):
        return export_response(
            self, request, queryset.filter(owner__isnull=True), "quick-replies", "xlsx"
        )


# --- scripts, cases, manuals, synonyms -------------------------------------------------


class ActionSavedAdmin(ShopScopedAdmin):
    """The model form validates; the action saves (and validates again)."""

    def delete_model(self, request, obj):
        actions.delete_item(request.user, type(obj), obj.pk)

    def delete_queryset(self, request, queryset):
        for item_id in queryset.values_list("id", flat=True):
            actions.delete_item(request.user, queryset.model, item_id)


@admin.register(Script)
class ScriptAdmin(ActionSavedAdmin):
    list_display = ("title", "shop", "stage", "language", "position")
    list_filter = ("shop", "stage", "language")
    search_fields = ("title", "text")
    fields = ("shop", "stage", "title", "text", "language", "position")

    def save_model(self, request, obj, form, change):
        script = actions.save_script(
            request.user,
            form.cleaned_data["shop"],
            form.cleaned_data,
            script_id=obj.pk if change else None,
        )
        obj.pk = script.pk


@admin.register(Case)
class CaseAdmin(ActionSavedAdmin):
    list_display = ("title", "shop", "kind", "language", "created_by", "created_at")
    list_filter = ("shop", "kind", "language")
    search_fields = ("title", "situation", "handling", "lesson")
    fields = (
        "shop",
        "conversation",
        "kind",
        "title",
        "situation",
        "handling",
        "lesson",
        "tags",
        "language",
    )
    raw_id_fields = ("conversation",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["field_classes"] = {"tags": LinesField}
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        case = actions.save_case(
            request.user,
            form.cleaned_data["shop"],
            form.cleaned_data,
            case_id=obj.pk if change else None,
            conversation=form.cleaned_data.get("conversation"),
        )
        obj.pk = case.pk


@admin.register(Manual)
class ManualAdmin(ActionSavedAdmin):
    list_display = ("title", "shop", "kind", "language", "version", "updated_at")
    list_filter = ("shop", "kind", "language")
    search_fields = ("title", "body")
    fields = ("shop", "kind", "language", "title", "body")

    def get_readonly_fields(self, request, obj=None):
        # The kind and language identify a manual; change them by adding a new one.
        return ("kind", "language") if obj else ()

    def save_model(self, request, obj, form, change):
        data = {**form.cleaned_data}
        if change:
            data.update(kind=obj.kind, language=obj.language)
        manual = actions.save_manual(request.user, data.get("shop") or obj.shop, data)
        obj.pk = manual.pk


@admin.register(Synonym)
class SynonymAdmin(ShopScopedAdmin):
    list_display = ("__str__", "shop")
    list_filter = ("shop",)
    fields = ("shop", "terms")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["field_classes"] = {"terms": LinesField}
        form_class = super().get_form(request, obj, change, **kwargs)
        admin_self = self

        class Form(form_class):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                admin_self._field_errors(
                    self, lambda: actions.clean_synonym_terms(cleaned.get("terms"))
                )
                return cleaned

        return Form

    def save_model(self, request, obj, form, change):
        synonym = actions.save_synonym(
            request.user,
            form.cleaned_data["shop"],
            form.cleaned_data["terms"],
            synonym_id=obj.pk if change else None,
        )
        obj.pk = synonym.pk

    def delete_model(self, request, obj):
        actions.delete_synonym(request.user, obj.pk)

    def delete_queryset(self, request, queryset):
        for synonym_id in queryset.values_list("id", flat=True):
            actions.delete_synonym(request.user, synonym_id)
