-- The value of a search term whose leaf is a JSON number, so a document
-- find sorted by that path orders numbers by value (9 before 10), before
-- text. NULL for every other term. The rows written before this version get
-- theirs from the Rust step that follows (documents' bodies parsed again).
ALTER TABLE document_terms ADD COLUMN num REAL;
