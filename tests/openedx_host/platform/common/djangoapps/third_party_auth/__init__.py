"""Stand-in of the platform's ``common/djangoapps/third_party_auth`` app (SAML provider configurations only)."""
