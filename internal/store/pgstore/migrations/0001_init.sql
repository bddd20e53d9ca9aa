-- Schema 1 of the tracehound PostgreSQL store. Every table is keyed by project first, so a
-- query of one project never reads another's rows.

-- Spans as received, one row per (project, trace, span): the primary key is what makes
-- client retries and replicas receiving the same span harmless.
CREATE TABLE spans (
    project  text   NOT NULL,
    trace_id bytea  NOT NULL,
    span_id  bytea  NOT NULL,
    start_ns bigint NOT NULL,
    raw      bytea  NOT NULL, -- ptrace.Traces with just this span, OTLP protobuf
    PRIMARY KEY (project, trace_id, span_id)
);

-- One record per (project, trace), folded from its spans. The columns are the Record's
-- fields; assembly holds the bookkeeping that lets later spans fold in any order.
CREATE TABLE records (
    project           text             NOT NULL,
    trace_id          bytea            NOT NULL,
    start_ns          bigint           NOT NULL,
    end_ns            bigint           NOT NULL,
    duration_ms       double precision NOT NULL,
    status            text             NOT NULL,
    source            text             NOT NULL,
    name              text             NOT NULL,
    service           text             NOT NULL,
    run_id            text             NOT NULL,
    testcase_id       text             NOT NULL,
    user_id           text             NOT NULL,
    session_id        text             NOT NULL,
    models            text[]           NOT NULL,
    input             text             NOT NULL,
    output            text             NOT NULL,
    expected          text             NOT NULL,
    usage_input       bigint           NOT NULL,
    usage_output      bigint           NOT NULL,
    usage_total       bigint           NOT NULL,
    usage_cache_read  bigint           NOT NULL,
    usage_cache_write bigint           NOT NULL,
    cost_usd          double precision NOT NULL,
    cost_unknown      boolean          NOT NULL,
    span_count        integer          NOT NULL,
    llm_call_count    integer          NOT NULL,
    error_count       integer          NOT NULL,
    flags             jsonb            NOT NULL,
    flag_codes        text[]           NOT NULL,
    scores            jsonb            NOT NULL,
    metadata          jsonb            NOT NULL,
    -- The distinct search tokens (store.IndexTokens) of input, output and expected: the
    -- same tokenizer as every other backend, so a query finds the same records everywhere.
    search_tokens     text[]           NOT NULL,
    assembly          jsonb            NOT NULL,
    PRIMARY KEY (project, trace_id)
);

-- Sorts and keyset pagination: (project, value, trace_id), walked in either direction.
CREATE INDEX records_by_time     ON records (project, start_ns, trace_id);
CREATE INDEX records_by_duration ON records (project, duration_ms, trace_id);
CREATE INDEX records_by_cost     ON records (project, cost_usd, trace_id);
CREATE INDEX records_by_tokens   ON records (project, usage_total, trace_id);
-- Equality filters, newest first within the value.
CREATE INDEX records_by_status   ON records (project, status, start_ns, trace_id);
CREATE INDEX records_by_run      ON records (project, run_id, start_ns, trace_id);
CREATE INDEX records_by_testcase ON records (project, testcase_id, start_ns, trace_id);
CREATE INDEX records_by_service  ON records (project, service, start_ns, trace_id);
CREATE INDEX records_by_user     ON records (project, user_id, start_ns, trace_id);
CREATE INDEX records_by_session  ON records (project, session_id, start_ns, trace_id);
-- Containment filters: model, flag code, metadata key=value, search terms.
CREATE INDEX records_models   ON records USING gin (models);
CREATE INDEX records_flags    ON records USING gin (flag_codes);
CREATE INDEX records_metadata ON records USING gin (metadata jsonb_path_ops);
CREATE INDEX records_search   ON records USING gin (search_tokens);
-- Retention deletes the oldest records of all projects.
CREATE INDEX records_retention ON records (start_ns);

-- Run aggregates (store.RunAgg) as deltas: each write transaction appends, per run it
-- touched, the change it made (records added, re-folded, removed). Every part of an
-- aggregate is a sum (or a min/max), so a run is the merge of its rows and writers of one
-- run never wait for each other; replicas merge a run's rows back into one row shortly
-- after they write.
CREATE TABLE run_deltas (
    project   text   NOT NULL,
    run_id    text   COLLATE "C" NOT NULL, -- byte order, as runs page by (last_seen, run_id)
    id        bigint GENERATED ALWAYS AS IDENTITY,
    last_seen bigint NOT NULL,
    agg       jsonb  NOT NULL,
    PRIMARY KEY (project, run_id, id)
);

-- Saved views, datasets, metric definitions: small named documents per project and kind.
CREATE TABLE objects (
    project text  NOT NULL,
    kind    text  NOT NULL,
    name    text  COLLATE "C" NOT NULL, -- listed in byte order
    body    bytea NOT NULL,
    PRIMARY KEY (project, kind, name)
);
