from django.contrib import admin

from .models import Customer, CustomerIdentity


class IdentityInline(admin.TabularInline):
    model = CustomerIdentity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "tier", "owner", "created_at")
    list_filter = ("tier", "shop")
    search_fields = ("name",)
    inlines = [IdentityInline]
