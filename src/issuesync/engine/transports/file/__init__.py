"""The ``file`` transport: messages as ``.bac`` files in Backbone's folders (seed 002).

Each connector has a folder ``<home>/data/default/<INT-n>/<CONNECTOR-KEY>/``::

    SEND/                      written, not yet handed to the exchange folder
      error/                   could not be handed over (send row in ``error``)
    RECEIVE/                   taken in, waiting to be applied (receive row in ``new``)
      archive/  sequence-error/  offline/  invalid/  discard/
      error/<ISSUE-KEY>/  issue-missing/<ISSUE-KEY>/

A connector's send queue path and its partner's receive queue path name one
exchange folder, relative to ``<home>/data/default`` or absolute (two homes
sharing a folder). Attachment content travels beside the messages, in
``<exchange>/blobs/<sha256>``, and is copied there before the message.

The database is the index. :meth:`FileTransport.deliver` only adds a send row
in the sender's transaction, so a crash before the commit leaves nothing on
disk. :meth:`FileTransport.pump` then makes the files follow the rows. A file's
name comes from its message (``<issueKey>_<sequenceId>_<uuid>.bac``) and its
folder from its state (:func:`folder_for`), so a step redone after a crash
overwrites the same file, and the receiver drops a second copy by uuid.

The package, by job: ``layout`` (where files live and how they are named),
``disk`` (file operations that never follow a symlink), ``invalid`` (what is
not the engine's, and how it is reported), ``sending``, ``receiving``,
``following`` (files follow their rows' states) and ``transport`` (the
:class:`FileTransport` the engine calls, and the pump's order).

What the engine touches. Each pump first resolves the queue folders (symlinks
followed) and stops, touching nothing, when one is outside the queue roots
(:class:`~issuesync.engine.connectors.QueuePlaces`); it then works on the
resolved folders only. In them it moves, renames, copies and deletes nothing
but regular files named as its messages are, its blobs (``blobs/<sha256>``,
verified) and its own temporary files (``.<name>.<hex>.tmp``); it never
follows a symlink (``O_NOFOLLOW``, ``lstat``) and never writes through a
folder that is a symlink. Anything else (another name, a symlink, a folder, a
FIFO, a device) stays where it is and is reported: in the route's status, in
one warning per entry, and by ``messages list --state invalid``. A file with a
message's name whose content is not a message for this connector is ours by
its name: it is set aside in ``RECEIVE/invalid`` with a ``.reason.txt``.

Files the engine creates are ``0600`` and its folders ``0700``. In an exchange
folder (which another node's service user may have to read) a new file or
folder also gets the group permissions of the folder it is made in, and never
any for others: an operator shares a folder by giving it a group (``2770``).
"""

from issuesync.engine.transports.file.invalid import InvalidFile, list_invalid
from issuesync.engine.transports.file.layout import (
    connector_folder,
    folder_for,
    is_message_name,
    message_file_name,
    message_path,
)
from issuesync.engine.transports.file.receiving import addressed_to
from issuesync.engine.transports.file.transport import FileTransport

__all__ = [
    "FileTransport",
    "InvalidFile",
    "addressed_to",
    "connector_folder",
    "folder_for",
    "is_message_name",
    "list_invalid",
    "message_file_name",
    "message_path",
]
