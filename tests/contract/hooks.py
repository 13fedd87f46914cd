"""Strategies for the document's own string formats, so generated workflows are the ones the
server must accept: `template` (minijinja text) and `template-expression` (a filter's
condition). Plain text without `{` is a template too; a few real templates are mixed in."""
import schemathesis
from hypothesis import strategies as st

PLAIN = st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]), max_size=40)
TEMPLATES = st.sampled_from([
    "{{ payload.email }}",
    "Hello {{ user.name | default('there') }}",
    "{% if payload.amount > 10 %}big{% else %}small{% endif %}",
    "{{ steps.0.greeting }}",
])
EXPRESSIONS = st.sampled_from([
    "true",
    "payload.amount > 100",
    "{{ user.plan == 'pro' }}",
    "payload.tags | length > 0",
])

schemathesis.openapi.format("template", st.one_of(PLAIN, TEMPLATES, st.builds(lambda a, t: a + t, PLAIN, TEMPLATES)))
schemathesis.openapi.format("template-expression", EXPRESSIONS)
