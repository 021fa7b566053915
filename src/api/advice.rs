//! What the API asks of the analysis and the app: the cost model's what-if predictions, the
//! dashboard settings, and applying a suggestion's change (the dashboard's Apply over HTTP).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::handlers::{bad, error};
use super::query::{self, BadParam};
use super::state::ApiState;
use crate::base::{TunableError, WhatIfError};

/// `GET /api/performance/predict?<tunable>=<value>&…`: what the cost model predicts for the
/// pass with those tunable values (the others as they are now), with its interval, the
/// prediction for the parameters now and the model's prequential accuracy.
pub(crate) async fn predict(State(st): State<Arc<ApiState>>, RawQuery(raw): RawQuery) -> Response {
    let q = match query::parse_query(raw.as_deref()) {
        Ok(q) => q,
        Err(p) => return bad(p),
    };
    let mut changes = Vec::with_capacity(q.len());
    for (name, v) in &q {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => changes.push((name.clone(), x)),
            _ => return bad(BadParam::new(name, format!("{v:?} is not a number"))),
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let published = st.published();
    let Some(state) = &published.insights.cost_model else {
        return error(
            StatusCode::CONFLICT,
            "no cost model yet: no timed frame of a render pass that publishes its cost (the fractal pass with GPU timestamps) has arrived",
            json!({}),
        );
    };
    let what_if = match state.what_if(&changes) {
        Ok(w) => w,
        Err(e @ (WhatIfError::Tunable(_) | WhatIfError::NotModelled(_))) => {
            let parameter = match &e {
                WhatIfError::Tunable(TunableError::Unknown(n))
                | WhatIfError::Tunable(TunableError::OutOfRange { name: n, .. })
                | WhatIfError::NotModelled(n) => n.clone(),
                WhatIfError::Predict(_) => String::new(),
            };
            return error(
                StatusCode::BAD_REQUEST,
                e.to_string(),
                json!({ "parameter": parameter, "tunables": state.tunables }),
            );
        }
        Err(e) => return error(StatusCode::CONFLICT, e.to_string(), json!({})),
    };
    let score = state.model.score();
    Json(json!({
        "params": what_if.params,
        "predicted": what_if.predicted,
        "current": what_if.current,
        "gpu_gain_ms": what_if.gpu_gain_ms(),
        "frame_gain_ms": what_if.frame_gain_ms(),
        "model": {
            "observed": score.observed,
            "scored": score.scored,
            "mape": score.mape(),
            "interval_coverage": score.interval_coverage(),
            "interval": state.model.coverage(),
        },
    }))
    .into_response()
}

/// `GET /api/performance/config`: the dashboard settings (metrics shown, update interval,
/// …), so a browser dashboard shows what the in-game one does.
pub(crate) async fn config(State(st): State<Arc<ApiState>>) -> Json<Value> {
    Json(st.app.config.clone())
}

/// How long `POST …/apply` waits for the app to take the change (it answers at the start of
/// its next frame).
const APPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// `POST /api/performance/suggestions/{id}/apply`: the suggestion's parameter change, through
/// the same registry check and apply path as the dashboard's **Apply**; the answer once the
/// app has taken it (the value that will be applied, rounded to the tunable's step).
pub(crate) async fn apply_suggestion(
    State(st): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Response {
    let published = st.published();
    let suggestions = &published.insights.suggestions;
    let Some(s) = suggestions.iter().find(|s| s.id == id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no current suggestion with id {id:?}"),
            json!({ "suggestions": suggestions.iter().map(|s| &s.id).collect::<Vec<_>>() }),
        );
    };
    let Some(change) = s.parameter.clone() else {
        return error(
            StatusCode::CONFLICT,
            format!("suggestion {id:?} has no parameter change to apply"),
            json!({ "title": s.title }),
        );
    };
    let Some(sender) = st.app.tunables.clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the app has no tunable registry to apply changes to",
            json!({}),
        );
    };
    let predicted = s.predicted;
    let (name, value) = (change.name.clone(), change.value);
    let reply = tokio::task::spawn_blocking(move || {
        sender.request(name, value).recv_timeout(APPLY_TIMEOUT)
    })
    .await;
    match reply {
        Ok(Ok(Ok(applied))) => Json(json!({
            "suggestion": id,
            "applied": { "name": change.name, "value": applied },
            "predicted": predicted,
        }))
        .into_response(),
        Ok(Ok(Err(e))) => error(
            StatusCode::BAD_REQUEST,
            e.to_string(),
            json!({ "parameter": change.name }),
        ),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the app did not take the change within {} s (paused or closing); nothing changed",
                APPLY_TIMEOUT.as_secs()
            ),
            json!({}),
        ),
    }
}
