"""The DuckDB warehouse: migrations, loads, the SQL models in ``sql/``, their tests and documentation.

The only package that talks to DuckDB. Callers that need a type name it from here:
``hikikomori.warehouse.Connection`` (a connection) and ``hikikomori.warehouse.DatabaseError``
(any error DuckDB raises). They are resolved on first use, so importing this package stays cheap
for the center's pre-check.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hikikomori.warehouse.connection import Connection, DatabaseError

__all__ = ["Connection", "DatabaseError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hikikomori.warehouse import connection

        return getattr(connection, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
