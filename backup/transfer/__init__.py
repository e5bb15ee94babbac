"""One district's complete data as JSON, to move it to another installation: district_export, district_import.

The file names every row by its natural key — codes, usernames, whistle
numbers; rows without a name of their own by their parent's key and their
place among its rows (backup.sections) — never by a database id, so that an
import gives every row a new id of the installation it lands in. Ids inside
JSON fields — the responsibility rule of a routing explanation; the meeting,
extension, feedback form, supervision order number, accountability record or
problem topic an event mentions — are written as the key of that row and
become the new row's id (or number) again on import. A row of another
district that a row refers to (a department a district-wide rule summoned)
is written by its code too, and must exist under that code where the file
is imported; many-to-many links to another district's streets or grids are
left out.

The export reads in one transaction (REPEATABLE READ on PostgreSQL: one
snapshot; on SQLite the transaction holds the write lock, so writers wait
the few seconds it takes) and streams: rows come through values_list()
iterators and are written one by one. It keeps in memory the usernames of
the users it refers to and, per section named by parents, a name per row
(only the referenced ones for events) — not the rows. The number of
queries does not grow with the district: a few per section.

The import reads the whole file, checks its format and version, refuses a
district code (or any code, number or member) that the installation already
has, and writes everything in one transaction: all or nothing, attachment
files included (written through the attachment field's storage, and removed
again if the import fails). It writes the rows directly with bulk_create, not
through the domain services: the history is copied, not replayed — statuses,
deadlines, on-time facts and events arrive exactly as they were, and no
notice, routing run or e-mail is triggered (notices still due an e-mail are
sent by the next mail run, as they would have been). Events are append-only,
so events are only ever inserted. Users are matched by username and
categories by code: one found in the installation is used as it is, the
others are created (with their password hashes, so everyone signs in as
before). The location index and the routing catalogue are told to reload.
"""

from backup.transfer.common import FORMAT, VERSION, ExportResult, ImportResult, link_sections, section_names
from backup.transfer.exporting import district_export
from backup.transfer.importing import district_import

__all__ = [
    "FORMAT",
    "VERSION",
    "ExportResult",
    "ImportResult",
    "district_export",
    "district_import",
    "link_sections",
    "section_names",
]
