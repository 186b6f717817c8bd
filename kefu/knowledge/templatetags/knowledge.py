from django import template

from kefu.knowledge.markdown import render_markdown

register = template.Library()


@register.filter(name="manual_markdown")
def manual_markdown(value: str):
    """Safe markdown subset for manual bodies (text is escaped before markup)."""
    return render_markdown(value)
