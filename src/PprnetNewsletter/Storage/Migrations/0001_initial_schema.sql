-- Initial schema. Timestamps are UTC ISO-8601 text of fixed width (see Storage/SqlTime.cs), so they sort
-- and compare as strings; booleans are 0/1. Kept to SQL that PostgreSQL also accepts where that is free.

CREATE TABLE topics (
    id   INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
);

-- The blog's taxonomy, names exactly as the blog lists them. Slugs are stable identifiers: never change one.
INSERT INTO topics (slug, name) VALUES
    ('adherance', 'Adherance'),
    ('alliance-and-therapeutic-relationship', 'Alliance and Therapeutic Relationship'),
    ('anxiety-disorders', 'Anxiety Disorders'),
    ('attachment', 'Attachment'),
    ('attendance-attrition-and-drop-out', 'Attendance, Attrition, and Drop-Out'),
    ('client-factors', 'Client Factors'),
    ('client-preferences', 'Client Preferences'),
    ('cognitive-therapy-ct-and-cognitive-behavioural-therapy-cbt', 'Cognitive Therapy (CT) and Cognitive-Behavioural Therapy (CBT)'),
    ('combination-therapy', 'Combination Therapy'),
    ('common-factors', 'Common Factors'),
    ('cost-effectiveness', 'Cost-effectiveness'),
    ('depression-and-depressive-symptoms', 'Depression and Depressive Symptoms'),
    ('efficacy-of-treatments', 'Efficacy of Treatments'),
    ('empathy', 'Empathy'),
    ('feedback-and-progress-monitoring', 'Feedback and Progress Monitoring'),
    ('group-psychotherapy', 'Group Psychotherapy'),
    ('illness-and-medical-comorbidities', 'Illness and Medical Comorbidities'),
    ('interpersonal-psychotherapy-ipt', 'Interpersonal Psychotherapy (IPT)'),
    ('long-term-outcomes', 'Long-term Outcomes'),
    ('medications-pharmacotherapy', 'Medications/Pharmacotherapy'),
    ('miscellaneous', 'Miscellaneous'),
    ('neuroscience-and-brain', 'Neuroscience and Brain'),
    ('outcomes-and-deterioration', 'Outcomes and Deterioration'),
    ('personality-disorders', 'Personality Disorders'),
    ('placebo-effect', 'Placebo Effect'),
    ('practice-based-research-and-practice-research-networks', 'Practice-Based Research and Practice Research Networks'),
    ('psychodynamic-therapy-pdt', 'Psychodynamic Therapy (PDT)'),
    ('resistance-and-reactance', 'Resistance and Reactance'),
    ('self-reflection-and-awareness', 'Self-Reflection and Awareness'),
    ('suicide-and-crisis-intervention', 'Suicide and Crisis Intervention'),
    ('termination', 'Termination'),
    ('therapist-factors', 'Therapist Factors'),
    ('training', 'Training'),
    ('transference-and-countertransference', 'Transference and Countertransference'),
    ('trauma-and-or-ptsd', 'Trauma and/or PTSD'),
    ('treatment-length-and-frequency', 'Treatment Length and Frequency');

-- One edition per month; its summaries are the month's content.
CREATE TABLE editions (
    id                INTEGER PRIMARY KEY,
    month             TEXT NOT NULL UNIQUE CHECK (length(month) = 7),          -- YYYY-MM
    status            TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sending', 'sent')),
    created_at        TEXT NOT NULL,
    send_started_at   TEXT,
    sent_at           TEXT
);

CREATE TABLE summaries (
    id                    INTEGER PRIMARY KEY,
    edition_id            INTEGER NOT NULL REFERENCES editions (id),
    slug                  TEXT NOT NULL UNIQUE,
    position              INTEGER NOT NULL,          -- order within the edition
    title                 TEXT NOT NULL,
    citation              TEXT,
    research_type         TEXT,
    body_markdown         TEXT NOT NULL,
    body_html             TEXT NOT NULL,
    body_text             TEXT NOT NULL,
    implications_markdown TEXT NOT NULL,
    implications_html     TEXT NOT NULL,
    implications_text     TEXT NOT NULL,
    source_file           TEXT,
    imported_at           TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX ix_summaries_edition ON summaries (edition_id, position);

CREATE TABLE summary_topics (
    summary_id INTEGER NOT NULL REFERENCES summaries (id) ON DELETE CASCADE,
    topic_id   INTEGER NOT NULL REFERENCES topics (id),
    PRIMARY KEY (summary_id, topic_id)
);

CREATE TABLE subscribers (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,                     -- normalised: trimmed, domain lower-cased
    name          TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'paused', 'unsubscribed', 'bounced')),
    all_topics    INTEGER NOT NULL DEFAULT 0 CHECK (all_topics IN (0, 1)),
    created_at    TEXT NOT NULL,
    confirmed_at  TEXT,
    updated_at    TEXT NOT NULL
);
-- Addresses are unique whatever their case.
CREATE UNIQUE INDEX ux_subscribers_email ON subscribers (lower(email));
CREATE INDEX ix_subscribers_status ON subscribers (status, id);

CREATE TABLE subscriber_topics (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic_id      INTEGER NOT NULL REFERENCES topics (id),
    PRIMARY KEY (subscriber_id, topic_id)
);

-- Append-only record of consent (CASL, GDPR). Rows are never deleted; erasure may only clear the personal
-- columns (subscriber_id, ip, user_agent), which the triggers below allow and nothing else.
CREATE TABLE consent_events (
    id              INTEGER PRIMARY KEY,
    subscriber_id   INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    event           TEXT NOT NULL CHECK (event IN ('subscribed', 'confirmed', 'preferences_changed', 'paused',
                                                   'resumed', 'unsubscribed', 'bounced', 'erased')),
    source          TEXT NOT NULL CHECK (source IN ('form', 'admin', 'csv', 'one_click', 'preferences',
                                                    'bounce', 'email')),
    occurred_at     TEXT NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    consent_version TEXT,
    detail          TEXT
);
CREATE INDEX ix_consent_events_subscriber ON consent_events (subscriber_id, id);

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

CREATE TRIGGER consent_events_no_rewrite BEFORE UPDATE OF id, event, source, occurred_at, consent_version, detail
ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

-- Addresses that must never be mailed again (erased, or unsubscribed then erased): a SHA-256 of the
-- lower-cased address, so no personal data is kept.
CREATE TABLE suppressions (
    email_hash TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Double opt-in: 32 random bytes sent by email, only their SHA-256 stored; single use.
CREATE TABLE confirmation_tokens (
    token_hash    TEXT PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);

-- The delivery ledger: one row per edition and recipient, the unit of resumable sending.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    edition_id       INTEGER NOT NULL REFERENCES editions (id),
    subscriber_id    INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    resend_count     INTEGER NOT NULL DEFAULT 0,     -- 0 for the first send; n for the n-th resend
    lease_until      TEXT,                           -- while 'sending': after this, the row is back to work
    next_attempt_at  TEXT,                           -- while 'deferred'
    first_attempt_at TEXT,
    last_error       TEXT,
    smtp_code        INTEGER,
    enhanced_status  TEXT,
    smtp_reply       TEXT,
    message_id       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    sent_at          TEXT,
    UNIQUE (edition_id, subscriber_id)
);
CREATE INDEX ix_deliveries_state ON deliveries (edition_id, state, id);

-- History of every attempt, kept across resends.
CREATE TABLE delivery_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    resend_count    INTEGER NOT NULL,
    attempted_at    TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'failed', 'skipped')),
    smtp_code       INTEGER,
    enhanced_status TEXT,
    smtp_reply      TEXT,
    error           TEXT,
    message_id      TEXT
);
CREATE INDEX ix_delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
