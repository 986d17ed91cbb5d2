"""The standalone host's development secrets: its fallbacks, which checks.py refuses with debug off.

Everyone who has this repository knows them: whoever runs a host with them can be impersonated
(the session and password-reset signatures use SECRET_KEY, the API trusts any JWT signed with
the JWT secret).
"""

SECRET_KEY = "standalone-development-secret-key-change-me"
JWT_SECRET_KEY = "standalone-development-jwt-secret-change-me"
