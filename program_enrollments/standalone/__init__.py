"""The standalone host: a small LMS stand-in (users, course enrollments, SSO identities, catalog).

It is the embedded default for running and testing the app; inside an Open edX
LMS none of it is installed.
"""
