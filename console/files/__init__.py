"""Files sent in chats (PROTOCOL 1.2, Attachments): one storage interface with two backends,
the data dir encrypted with the data key (`local`) and any S3-compatible object store
(`s3`); the upload received in chunks and stopped at the limit (`receive`); the type read
from the bytes (`kinds`); images re-encoded without their metadata, with a thumbnail
(`images`)."""
