"""Supervisors edit routing in the back office since this release: those who
already exist (they hold the orders app's permissions, which only the
supervisor role is given) get the routing permissions too, as new ones do."""

from django.db import migrations


def grant_routing(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    routing = apps.get_app_config("routing")
    models_module = getattr(routing, "models_module", None)
    routing.models_module = True  # so that create_permissions runs for it here
    try:
        create_permissions(routing, apps=apps, verbosity=0)
    finally:
        routing.models_module = models_module
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    granted = list(Permission.objects.filter(content_type__app_label="routing"))
    supervisors = User.objects.filter(
        user_permissions__content_type__app_label="commerce"
    ).distinct()
    for user in supervisors:
        user.user_permissions.add(*granted)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("commerce", "0001_initial"),
        ("routing", "0004_rule_pattern_re2"),
    ]

    operations = [migrations.RunPython(grant_routing, migrations.RunPython.noop)]
