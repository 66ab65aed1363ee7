-- Spokes schema, version 4 (sqlite). Keep in step with the other backend's 0004_custom_object_copies.sql.

-- Copies of a connector's Custom Objects category, each bound to one custom object schema by
-- its name; the partner names the category the copied methods show.
CREATE TABLE custom_object_copies (
    connector   TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    category    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (connector, schema_name)
) STRICT;
