//! Property tests of the body decoder of the actions without parameters (`no_parameters`, used by
//! rollback and signing out): nothing, blanks or `{}` are accepted; any other body is refused with
//! 422 naming what it carried, never ignored and never a panic.

use proptest::prelude::*;

use super::no_parameters;
use crate::error::{Error, Failure};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn blanks_and_empty_objects_are_no_parameters(
        left in "[ \t\r\n]{0,3}", inner in "[ \t\r\n]{0,3}", right in "[ \t\r\n]{0,3}", object in any::<bool>(),
    ) {
        let body = if object { format!("{left}{{{inner}}}{right}") } else { format!("{left}{right}") };
        prop_assert!(no_parameters(body.as_bytes(), "a rollback").is_ok(), "{:?}", body);
    }

    #[test]
    fn any_field_is_refused_by_name(
        fields in prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", any::<i32>(), 1..4),
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        let error = no_parameters(&body, "a rollback").unwrap_err();
        let failure = Failure::from(error);
        prop_assert_eq!(failure.status.as_u16(), 422);
        for name in fields.keys() {
            let quoted = format!("`{name}`");
            prop_assert!(failure.message.contains(&quoted), "{}", failure.message);
        }
    }

    #[test]
    fn any_other_body_is_refused_never_a_panic(body in prop::collection::vec(any::<u8>(), 1..48)) {
        let blank = body.iter().all(u8::is_ascii_whitespace);
        let empty_object = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
            .is_ok_and(|m| m.is_empty());
        match no_parameters(&body, "signing out") {
            Ok(()) => prop_assert!(blank || empty_object, "{:?}", String::from_utf8_lossy(&body)),
            Err(Error::Invalid(message)) => prop_assert!(message.starts_with("signing out takes no parameters")),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}
