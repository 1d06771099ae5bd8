"""Two-factor sign-in: an authenticator app (TOTP, django-otp's ``TOTPDevice``) and ten
one-time recovery codes, turned on by each person, and required of every member by an
organization whose owners ask for it.

- ``services``: turning it on and off, recovery codes, checking a code (with throttling),
  and an organization's requirement;
- ``selectors``: what a person has set up, and which organizations require it;
- ``pending``: the half-finished sign-in kept in the session between password and code;
- ``middleware``: sends members of a requiring organization to set it up first.
"""
