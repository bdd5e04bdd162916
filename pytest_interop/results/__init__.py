"""The results service: signed submissions in, history, adoption and scoring out.

``interop results serve`` runs it (a Flask app over SQLAlchemy; SQLite by default, PostgreSQL
by URL; schema migrations by Alembic). Every upload is checked by
:func:`pytest_interop.submission.verify_submission`, the code ``interop submission verify`` runs.
Needs the ``results`` extra (``pip install 'pytest-interop[results]'``).
"""
