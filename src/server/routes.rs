//! The table of every endpoint: method, path, who may call it, and what it does.
//!
//! The OpenAPI document is generated from this table and the role-matrix test calls every
//! row with every role, so the table, the documentation and the behaviour cannot drift
//! apart silently. Handlers still check roles themselves (with `Caller::require`); the
//! table is the specification they are tested against.

use crate::store::Role;

/// One endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// axum path syntax (`{id}` parameters).
    pub path: &'static str,
    /// Roles allowed; empty means no token is needed.
    pub roles: &'static [Role],
    pub summary: &'static str,
    /// The success status.
    pub ok_status: u16,
}

use Role::{Admin, Designer, Enumerator, Manager, Researcher, Supervisor};

const ALL: &[Role] = &[Admin, Designer, Manager, Supervisor, Enumerator, Researcher];

/// Every endpoint of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/api/openapi.json",
        roles: &[],
        summary: "This OpenAPI document.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/health",
        roles: &[],
        summary: "Liveness and whether the store accepts writes.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/login",
        roles: &[],
        summary: "Exchange a name and password for a bearer token.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/me",
        roles: ALL,
        summary: "The calling user.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/users",
        roles: &[Admin, Manager],
        summary: "List users.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/users",
        roles: &[Admin],
        summary: "Create a user; returns a one-time token.",
        ok_status: 201,
    },
    Route {
        method: "PUT",
        path: "/api/v1/users/{name}/supervisor",
        roles: &[Admin, Manager],
        summary: "Put an enumerator in a supervisor's team (or none).",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/questionnaires/drafts",
        roles: &[Admin, Designer],
        summary: "Upload a draft; it must lint clean (else 422 with findings).",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/questionnaires/drafts/{id}",
        roles: &[Admin, Designer],
        summary: "The current draft of a questionnaire.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/questionnaires/drafts/{id}/diff",
        roles: &[Admin, Designer],
        summary: "Changes from the latest published version to the draft.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/questionnaires/drafts/{id}/publish",
        roles: &[Admin, Designer],
        summary: "Publish the draft as an immutable version.",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/questionnaires",
        roles: ALL,
        summary: "List published versions.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/questionnaires/{id}/versions/{version}",
        roles: ALL,
        summary: "A published version with its definition.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/assignments",
        roles: &[Admin, Manager],
        summary: "Create assignments: one JSON object, a JSON array, or CSV (text/csv).",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/assignments",
        roles: &[Admin, Manager, Supervisor, Enumerator],
        summary: "List assignments (an enumerator's own, a supervisor's team's, or all).",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/assignments/{id}",
        roles: &[Admin, Manager, Supervisor, Enumerator],
        summary: "One assignment.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/assignments/{id}/start",
        roles: &[Enumerator],
        summary: "The enumerator opens an assignment (assigned → in_progress).",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/assignments/{id}/close",
        roles: &[Admin, Manager],
        summary: "Close an assignment: it takes no more interviews.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/sync",
        roles: ALL,
        summary: "Changes since a sequence number, paged by cursor.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/submissions",
        roles: &[Enumerator],
        summary: "Submit an interview (idempotent by instance id); 201 after the durable commit.",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/submissions/{instance_id}",
        roles: &[Admin, Manager, Supervisor, Enumerator, Researcher],
        summary: "An interview with its revisions and review decisions.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/review/queue",
        roles: &[Admin, Manager, Supervisor],
        summary: "Interviews waiting for review (a supervisor's team's).",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/submissions/{instance_id}/review",
        roles: &[Admin, Manager, Supervisor],
        summary: "Approve or reject an interview, with comments.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/progress",
        roles: &[Admin, Manager, Supervisor, Researcher],
        summary: "Counts by status per enumerator, team, questionnaire, tier and province.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/admin/backup",
        roles: &[Admin],
        summary: "Write an online backup to a new directory on the server.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys",
        roles: &[Admin, Manager],
        summary: "Create a survey round with its tier-0 rule and questionnaire ids.",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys",
        roles: &[Admin, Manager],
        summary: "List surveys.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys/{survey}",
        roles: &[Admin, Manager],
        summary: "A survey with its frame record.",
        ok_status: 200,
    },
    Route {
        method: "PUT",
        path: "/api/v1/surveys/{survey}/frame",
        roles: &[Admin, Manager],
        summary: "Upload the frame (units CSV, links CSV); 422 lists every error with line and column.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys/{survey}/frame/synthetic",
        roles: &[Admin, Manager],
        summary: "Generate the synthetic supply-chain frame (scale, seed) as the survey's frame.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys/{survey}/sample",
        roles: &[Admin, Manager],
        summary: "Draw the frame-stage sample from a design JSON (422 on an invalid design); a replay returns 200.",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys/{survey}/sample",
        roles: &[Admin, Manager],
        summary: "The sample's replay record and selected units.",
        ok_status: 200,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys/{survey}/sample.csv",
        roles: &[Admin, Manager],
        summary: "The selected units as CSV with every probability.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys/{survey}/trace",
        roles: &[Admin, Manager],
        summary: "Trace supplier links from submitted enterprise interviews to the next tier.",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys/{survey}/trace/{from_tier}",
        roles: &[Admin, Manager],
        summary: "A stored trace: links with p, reached units with π_{i|s} and L_i, unmatched rows.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys/{survey}/workers",
        roles: &[Admin, Manager],
        summary: "Select workers by sex within interviewed units (M, m stored).",
        ok_status: 201,
    },
    Route {
        method: "GET",
        path: "/api/v1/surveys/{survey}/workers",
        roles: &[Admin, Manager],
        summary: "The stored worker selection.",
        ok_status: 200,
    },
    Route {
        method: "POST",
        path: "/api/v1/surveys/{survey}/assignments",
        roles: &[Admin, Manager],
        summary: "Turn selected units or workers into assignments (idempotent).",
        ok_status: 201,
    },
];
