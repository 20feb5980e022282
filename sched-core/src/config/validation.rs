//! Small validators shared by the configuration checks: qualified names and label values
//! (apimachinery `util/validation`), Go duration strings (`time.ParseDuration`) and node
//! selectors (component-helpers `nodeaffinity.NewNodeSelector`).

use k8s_openapi::api::core::v1::{NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm};

use super::FieldError;

const QUALIFIED_NAME_MAX_LEN: usize = 63;
const LABEL_VALUE_MAX_LEN: usize = 63;
const DNS1123_SUBDOMAIN_MAX_LEN: usize = 253;

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, non-empty.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// One DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    ok(first) && ok(last) && b.iter().all(|c| ok(c) || *c == b'-')
}

/// Messages of apimachinery's `IsDNS1123Subdomain` (empty when valid).
fn dns1123_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX_LEN {
        errs.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX_LEN} characters"
        ));
    }
    if !s.split('.').all(is_dns1123_label) {
        errs.push(format!(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', \
             and must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
             validation is '{DNS1123_SUBDOMAIN_FMT}')"
        ));
    }
    errs
}

/// Messages of apimachinery's `IsQualifiedName` (empty when valid): an optional DNS subdomain
/// prefix and `/`, then a name part of at most 63 characters.
pub(crate) fn qualified_name_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain_errors(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start \
                 and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex \
                 used for validation is '{QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and \
                 '/' (e.g. 'example.com/MyName')"
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX_LEN {
        errs.push(format!(
            "name part must be no more than {QUALIFIED_NAME_MAX_LEN} characters"
        ));
    }
    if !name.is_empty() && !is_qualified_name_part(name) {
        errs.push(format!(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end \
             with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for \
             validation is '{QUALIFIED_NAME_FMT}')"
        ));
    }
    errs
}

/// Messages of apimachinery's `IsValidLabelValue` (empty when valid; the empty string is valid).
pub(crate) fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LEN {
        errs.push(format!(
            "must be no more than {LABEL_VALUE_MAX_LEN} characters"
        ));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        errs.push(format!(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', \
             and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or \
             '12345', regex used for validation is '(({QUALIFIED_NAME_FMT})?')"
        ));
    }
    errs
}

/// Pushes one error per qualified-name violation of `value` at `path`.
pub(crate) fn check_qualified_name(errs: &mut Vec<FieldError>, path: &str, value: &str) {
    for m in qualified_name_errors(value) {
        errs.push(FieldError::new(
            path,
            format!("invalid value {value:?}: {m}"),
        ));
    }
}

/// Parses a Go duration string (`time.ParseDuration`: `"300ms"`, `"-1.5h"`, `"2h45m"`, `"0"`)
/// into signed nanoseconds. Upstream's `metav1.Duration` is decoded with exactly this function.
pub(crate) fn parse_go_duration(input: &str) -> Result<i128, String> {
    let invalid = || {
        format!(
            "invalid duration {input:?} (expected a Go duration such as \"15s\", \"1m30s\" or \"500ms\")"
        )
    };
    let mut s = input;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    // Exact arithmetic in nanoseconds scaled by 10^9 for fractions, as Go does with 64-bit integers.
    let mut total: i128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = s.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(after_dot) => {
                let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                after_dot.split_at(frac_len)
            }
            None => ("", rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let (unit, rest) = rest.split_at(unit_len);
        let unit_ns: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "" => return Err(format!("missing unit in duration {input:?}")),
            _ => return Err(format!("unknown unit {unit:?} in duration {input:?}")),
        };
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<i128>().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(unit_ns).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Truncate the fraction to what fits; Go keeps ~19 significant digits.
            let digits = &frac_part[..frac_part.len().min(18)];
            let frac: i128 = digits.parse::<i128>().map_err(|_| invalid())?;
            let scale = 10_i128.pow(u32::try_from(digits.len()).map_err(|_| invalid())?);
            value += frac * unit_ns / scale;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i128::from(i64::MAX) {
            return Err(invalid());
        }
        s = rest;
    }
    Ok(if negative { -total } else { total })
}

/// Converts signed nanoseconds to a `Duration`, clamping negatives to zero.
pub(crate) fn nanos_to_duration(nanos: i128) -> std::time::Duration {
    let n = u64::try_from(nanos.max(0)).unwrap_or(u64::MAX);
    std::time::Duration::from_nanos(n)
}

const LABEL_OPERATORS: &str = "\"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\"";

/// Validates one label requirement as `labels.NewRequirement` does.
fn check_label_requirement(errs: &mut Vec<FieldError>, path: &str, r: &NodeSelectorRequirement) {
    let values = r.values.as_deref().unwrap_or_default();
    let op = r.operator.as_str();
    if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt") {
        errs.push(FieldError::new(
            format!("{path}.operator"),
            format!("unsupported value {op:?}: supported values: {LABEL_OPERATORS}"),
        ));
        return;
    }
    let before = errs.len();
    check_qualified_name(errs, &format!("{path}.key"), &r.key);
    if errs.len() > before {
        return;
    }
    let values_path = format!("{path}.values");
    match op {
        "In" | "NotIn" if values.is_empty() => {
            errs.push(FieldError::new(
                values_path,
                "for 'in', 'notin' operators, values set can't be empty",
            ));
            return;
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errs.push(FieldError::new(
                values_path,
                "values set must be empty for exists and does not exist",
            ));
            return;
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errs.push(FieldError::new(
                    values_path,
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
                return;
            }
            if values[0].parse::<i64>().is_err() {
                errs.push(FieldError::new(
                    format!("{values_path}[0]"),
                    format!("invalid value {:?}: for 'Gt', 'Lt' operators, the value must be an integer", values[0]),
                ));
                return;
            }
        }
        _ => {}
    }
    for (i, v) in values.iter().enumerate() {
        for m in label_value_errors(v) {
            errs.push(FieldError::new(
                format!("{values_path}[{i}]"),
                format!("invalid value {v:?}: {m}"),
            ));
        }
    }
}

/// Validates one field requirement (`matchFields`): `In`/`NotIn` with exactly one value.
fn check_field_requirement(errs: &mut Vec<FieldError>, path: &str, r: &NodeSelectorRequirement) {
    match r.operator.as_str() {
        "In" | "NotIn" => {
            if r.values.as_deref().unwrap_or_default().len() != 1 {
                errs.push(FieldError::new(
                    format!("{path}.values"),
                    "must have one element",
                ));
            }
        }
        op => errs.push(FieldError::new(
            format!("{path}.operator"),
            format!("unsupported value {op:?}: supported values: \"In\", \"NotIn\""),
        )),
    }
}

/// Validates a node selector term as `newNodeSelectorTerm` does (errors are collected).
fn check_term(errs: &mut Vec<FieldError>, path: &str, term: &NodeSelectorTerm) {
    for (i, r) in term.match_expressions.iter().flatten().enumerate() {
        check_label_requirement(errs, &format!("{path}.matchExpressions[{i}]"), r);
    }
    for (i, r) in term.match_fields.iter().flatten().enumerate() {
        check_field_requirement(errs, &format!("{path}.matchFields[{i}]"), r);
    }
}

fn is_empty_term(term: &NodeSelectorTerm) -> bool {
    term.match_expressions.as_ref().is_none_or(Vec::is_empty)
        && term.match_fields.as_ref().is_none_or(Vec::is_empty)
}

/// `ValidateNodeAffinityArgs`: the required selector's non-empty terms and the preferred terms
/// with a non-zero weight and a non-empty preference must parse.
pub(crate) fn check_added_affinity(
    errs: &mut Vec<FieldError>,
    path: &str,
    affinity: &NodeAffinity,
) {
    if let Some(ns) = &affinity.required_during_scheduling_ignored_during_execution {
        let base =
            format!("{path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
        for (i, term) in ns.node_selector_terms.iter().enumerate() {
            if !is_empty_term(term) {
                check_term(errs, &format!("{base}[{i}]"), term);
            }
        }
    }
    for (i, term) in affinity
        .preferred_during_scheduling_ignored_during_execution
        .iter()
        .flatten()
        .enumerate()
    {
        if term.weight == 0 || is_empty_term(&term.preference) {
            continue;
        }
        // upstream: the preferred terms' path has no `.preference` segment.
        check_term(
            errs,
            &format!("{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"),
            &term.preference,
        );
    }
}
