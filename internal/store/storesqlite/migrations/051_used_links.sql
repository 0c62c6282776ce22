-- Approval links already used: each link acts once.
CREATE TABLE used_links (
    nonce   TEXT    PRIMARY KEY,
    expires INTEGER NOT NULL
);
CREATE INDEX used_links_expires ON used_links (expires);
