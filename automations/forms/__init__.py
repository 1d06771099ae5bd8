"""The builder's forms. Each one edits one part of an automation's draft: it turns what the page
posted into that part of the definition, and ``definition_clean`` (through the service) judges
the whole. Its errors name paths (``trigger.tag``, ``steps[2].variants[1].template``); each form
says which of its fields a path belongs to, so that the error shows next to that field.

``base`` holds what they share, ``trigger``, ``rules`` and ``steps`` the forms, ``drafts`` the
changes the step buttons make to a draft.
"""
