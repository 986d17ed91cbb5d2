"""Stand-in of the platform's ``common/djangoapps/student`` app (app label ``student``)."""
