"""The Open edX test host: a stand-in platform source tree (``platform/``) and its helpers.

See ``README.rst`` in this directory.
"""
