//! serde for fixed-size arrays of any length (serde's own stop at 32): as a sequence, checked
//! for its length when read. `#[serde(with = "fixed_array")]`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(super) fn serialize<S: Serializer, T: Serialize, const N: usize>(
    v: &[T; N],
    s: S,
) -> Result<S::Ok, S::Error> {
    v.as_slice().serialize(s)
}

pub(super) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>, const N: usize>(
    d: D,
) -> Result<[T; N], D::Error> {
    let v = Vec::<T>::deserialize(d)?;
    v.try_into()
        .map_err(|v: Vec<T>| serde::de::Error::invalid_length(v.len(), &"the array's length"))
}
