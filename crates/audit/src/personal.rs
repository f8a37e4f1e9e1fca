//! The personal fields of a payload: taken out before hashing (`canonical_v2`) and put back for reading.

use serde_json::{Map, Value};

/// Payload keys whose values are personal data, wherever they appear (at any depth): names (`name`, `by`: who held
/// a talk, `recorded_by`, `actor`: a principal named in an export's selection), resident ID numbers
/// (`resident_id`) and free text, which may name people or describe their circumstances (`note`, `text`,
/// `reason`, `resolution`, `topic`, `summary`).
///
/// They are stored beside the payload, not in it, and enter the leaf only as a salted commitment (`canonical_v2`).
pub const PERSONAL_KEYS: &[&str] = &[
    "name",
    "by",
    "recorded_by",
    "actor",
    "resident_id",
    "note",
    "text",
    "reason",
    "resolution",
    "topic",
    "summary",
];

/// A stored personal-field object that does not fit its payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalError {
    /// The personal fields are not a JSON object of JSON Pointer → value.
    #[error("personal fields are not a JSON object: {0}")]
    NotAnObject(String),
    /// A pointer does not name an object member of the payload.
    #[error("personal field {0} has no place in the payload")]
    NoPlace(String),
}

/// Takes the personal fields out of a payload: the payload without them, and `Some` JSON object mapping each
/// removed field's RFC 6901 JSON Pointer (e.g. `/step/by`) to its value, or `None` when there was none.
///
/// Only object members named in [`PERSONAL_KEYS`] are taken, so [`join_personal`] puts each back where it was.
pub fn split_personal(payload: &Value) -> (Value, Option<Value>) {
    let mut redacted = payload.clone();
    let mut taken = Map::new();
    take(&mut redacted, &mut String::new(), &mut taken);
    let personal = (!taken.is_empty()).then_some(Value::Object(taken));
    (redacted, personal)
}

fn take(v: &mut Value, path: &mut String, taken: &mut Map<String, Value>) {
    let len = path.len();
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                path.push('/');
                path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if PERSONAL_KEYS.contains(&key.as_str()) {
                    if let Some(value) = map.remove(&key) {
                        taken.insert(path.clone(), value);
                    }
                } else if let Some(child) = map.get_mut(&key) {
                    take(child, path, taken);
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push('/');
                path.push_str(&i.to_string());
                take(child, path, taken);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Puts the personal fields taken by [`split_personal`] back into a payload.
///
/// # Errors
/// [`PersonalError`] if `personal` is not an object, or a pointer's parent is not an object in `payload` (a stored
/// row that was altered: verification reports it as an altered entry).
pub fn join_personal(payload: &mut Value, personal: &Value) -> Result<(), PersonalError> {
    let Value::Object(fields) = personal else {
        return Err(PersonalError::NotAnObject(personal.to_string()));
    };
    for (pointer, value) in fields {
        let (parent, key) = pointer
            .rsplit_once('/')
            .ok_or_else(|| PersonalError::NoPlace(pointer.clone()))?;
        let key = key.replace("~1", "/").replace("~0", "~");
        match payload.pointer_mut(parent) {
            Some(Value::Object(map)) if !map.contains_key(&key) => {
                map.insert(key, value.clone());
            }
            _ => return Err(PersonalError::NoPlace(pointer.clone())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_takes_names_and_free_text_at_any_depth_and_join_restores_the_payload() {
        let payload = json!({
            "flags": [],
            "step": {
                "command": "assign_mentors",
                "date": "2026-05-06",
                "by": "王老师",
                "mentors": [
                    {"kind": "member", "person_id": "01a22cd7-215c-7498-a8d1-6d876b4072a4"},
                    {"kind": "party_member", "name": "李四"}
                ]
            }
        });
        let (redacted, personal) = split_personal(&payload);
        assert_eq!(
            redacted,
            json!({"flags": [], "step": {"command": "assign_mentors", "date": "2026-05-06", "mentors": [
                {"kind": "member", "person_id": "01a22cd7-215c-7498-a8d1-6d876b4072a4"},
                {"kind": "party_member"}
            ]}})
        );
        let personal = personal.expect("two personal fields");
        assert_eq!(
            personal,
            json!({"/step/by": "王老师", "/step/mentors/1/name": "李四"})
        );
        let mut back = redacted;
        join_personal(&mut back, &personal).expect("joins");
        assert_eq!(back, payload);
    }

    #[test]
    fn a_payload_without_personal_fields_has_none() {
        let payload = json!({"step": {"command": "graduate", "date": "2026-11-24"}});
        assert_eq!(split_personal(&payload), (payload.clone(), None));
    }

    #[test]
    fn keys_with_slash_and_tilde_round_trip() {
        let payload = json!({"a/b": {"name": "x"}, "c~d": {"note": "y"}});
        let (redacted, personal) = split_personal(&payload);
        let personal = personal.expect("personal");
        assert_eq!(personal, json!({"/a~1b/name": "x", "/c~0d/note": "y"}));
        let mut back = redacted;
        join_personal(&mut back, &personal).expect("joins");
        assert_eq!(back, payload);
    }

    #[test]
    fn join_refuses_a_field_without_a_place_or_a_non_object() {
        let mut payload = json!({"step": {"command": "x"}});
        assert_eq!(
            join_personal(&mut payload, &json!({"/nowhere/name": "x"})),
            Err(PersonalError::NoPlace("/nowhere/name".into()))
        );
        assert_eq!(
            join_personal(&mut payload, &json!({"/step/command": "y"})),
            Err(PersonalError::NoPlace("/step/command".into()))
        );
        assert_eq!(
            join_personal(&mut payload, &json!(["x"])),
            Err(PersonalError::NotAnObject("[\"x\"]".into()))
        );
    }
}
