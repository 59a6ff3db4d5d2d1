//! The top of every report: the grade and score (`mailaudit_core::score`,
//! formula in docs/scoring.md) and "what to fix first", each item linking
//! to its finding card.

use crate::report::{card_id, grade_class, Badge};
use mailaudit_core::report::{Report, Status};
use mailaudit_core::score;
use std::rc::Rc;
use yew::prelude::*;

/// How many problems "what to fix first" lists.
pub const FIX_FIRST: usize = 5;

#[derive(Properties, PartialEq)]
pub struct ScoreProps {
    pub report: Rc<Report>,
    pub scope: AttrValue,
}

/// One sentence on what the grade means.
pub fn verdict(g: Option<score::Grade>) -> &'static str {
    use score::Grade::*;
    match g {
        Some(APlus) => "Excellent: every check that matters passed.",
        Some(A) => "Very good: only minor points, or checks that could not be run.",
        Some(B) => "Good, with problems worth fixing.",
        Some(C) => "Fair: at least one serious problem.",
        Some(D) => "Poor: several problems.",
        Some(F) => "Failing: fix the problems below first.",
        None => "Not graded: no check could be decided.",
    }
}

#[function_component(ScoreCard)]
pub fn score_card(p: &ScoreProps) -> Html {
    let r = &p.report;
    let s = score::score(r);
    let first = score::fix_first(r, FIX_FIRST);
    let problems = r
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .count();
    let title_id = format!("{}-score-title", p.scope);
    let fix_id = format!("{}-fix-first-title", p.scope);
    let grade = s.grade.map(|g| g.as_str()).unwrap_or("–");
    let class = s.grade.map(grade_class).unwrap_or("none");
    let heading = match (s.grade, s.score) {
        (Some(g), Some(n)) => format!("Grade {g}, score {n} of 100"),
        _ => "Not graded".to_string(),
    };
    let cap = s.cap.as_ref().map(|c| {
        let link = format!("#{}", card_id(&p.scope, &c.id));
        html! {
            <p class="cap">
                { format!("A {} {} holds the score to {} or less (without it: {}): ", c.severity.as_str(), c.status.as_str(), c.limit, s.uncapped.unwrap_or(c.limit)) }
                <a href={link}><code>{ c.id.clone() }</code></a>
                { "." }
            </p>
        }
    });
    html! {
        <section
            class={classes!("scorecard", format!("g-{class}"))}
            aria-labelledby={title_id.clone()}
            data-testid="score"
            data-grade={grade}
            data-score={s.score.map(|n| n.to_string()).unwrap_or_default()}
        >
            <div class="grade-box" aria-hidden="true">
                <span class="grade-letter">{ grade }</span>
                <span class="grade-score">
                    { s.score.map(|n| format!("{n}/100")).unwrap_or_else(|| "no score".into()) }
                </span>
            </div>
            <div class="grade-text">
                <h3 id={title_id}>{ heading }</h3>
                <p class="verdict">{ verdict(s.grade) }</p>
                { for cap }
                if let Some(why) = &s.no_a_plus {
                    <p class="cap">{ why.clone() }</p>
                }
                <div class="hint">
                    { format!("{} check{} scored", s.decided, if s.decided == 1 { "" } else { "s" }) }
                    if s.unknown > 0 {
                        { format!("; {} could not be decided and count for nothing", s.unknown) }
                    }
                    { ". " }
                    <details class="formula">
                        <summary>{ "How the score works" }</summary>
                        <p>
                            { "Each decided check weighs by its severity (critical 16, high 8, medium 4, low 2, \
                               info 1): a pass earns its weight, a warning half, a failure nothing. The score is \
                               the share earned. A critical failure holds it to 59 (F), a high failure to 79 (C), \
                               a medium one to 89 (B). A+ needs 95 or more, no failure, and every check of medium \
                               severity or more decided. Checks that could not be run are not counted as passes." }
                        </p>
                    </details>
                </div>
            </div>
            <div class="fix-first">
                <h3 id={fix_id.clone()}>{ "What to fix first" }</h3>
                if first.is_empty() {
                    <p class="none">{ "Nothing: no check failed or warned." }</p>
                } else {
                    <ol aria-labelledby={fix_id}>
                        { for first.iter().map(|f| html! {
                            <li data-id={f.id.clone()}>
                                <a href={format!("#{}", card_id(&p.scope, &f.id))}>
                                    <Badge status={f.status} />
                                    <span class="ff-sev">{ f.severity.as_str() }</span>
                                    <span class="ff-title">{ f.title.clone() }</span>
                                </a>
                            </li>
                        }) }
                    </ol>
                    if problems > first.len() {
                        <p class="hint">{ format!("{} more below.", problems - first.len()) }</p>
                    }
                }
            </div>
        </section>
    }
}
