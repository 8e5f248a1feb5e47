-- The value of a search term whose leaf is a JSON number, so a document
-- find sorted by that path orders numbers by value (9 before 10), before
-- text. NULL for every other term. The rows written before this version get
-- theirs from the Rust step that follows (documents' bodies parsed again).
ALTER TABLE document_terms ADD COLUMN num REAL;

-- A sort reads each document's terms at one path: this index serves that
-- by the document, covering the keys (the planner would otherwise walk
-- the `(path, value)` index for every document: a sort of N documents
-- cost N x N). It takes over the old per-document index's other use
-- (deleting a document's terms) by its first three columns.
DROP INDEX document_terms_doc;
CREATE INDEX document_terms_doc ON document_terms(org_id, collection, uuid, path, num, value);
