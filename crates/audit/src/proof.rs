//! Merkle inclusion and consistency proofs: generation (RFC 6962 §2.1.1 `PATH`, §2.1.2
//! `PROOF`) and verification (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Indices are 0-based leaf positions: the entry with `seq` `s` is leaf `s − 1`. Sizes are
//! numbers of leaves. A proof is a list of 32-byte node hashes, ordered from the leaf (or the
//! old tree) upwards, exactly as RFC 6962 lists them.

use crate::chain::Hash;
use crate::merkle::{merkle_root, node_hash, split_point, EMPTY_ROOT};

/// Why a proof could not be made or does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size (an inclusion proof needs `index < size`).
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The 0-based leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked for from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizesOutOfOrder {
        /// The old (earlier) tree size.
        old_size: u64,
        /// The new (later) tree size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for its index and sizes (hashes were added or
    /// removed).
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongLength {
        /// The number of hashes a proof for these sizes has.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// The inclusion proof, applied to the leaf, does not give the expected root: the leaf,
    /// the index, the size, the root or a proof hash is wrong.
    #[error("inclusion proof does not lead to the expected root hash")]
    RootMismatch,
    /// The consistency proof does not reproduce the old root (or, from an empty old tree, the
    /// old root is not [`EMPTY_ROOT`]).
    #[error("consistency proof does not reproduce the old root hash")]
    OldRootMismatch,
    /// The consistency proof does not reproduce the new root (or, for equal sizes, the two
    /// roots differ: the log was rewritten).
    #[error("consistency proof does not reproduce the new root hash")]
    NewRootMismatch,
}

/// The inclusion proof (audit path) of leaf `index` in the tree over `leaves`:
/// RFC 6962 §2.1.1 `PATH(m, D[n])`.
///
/// For `n > 1` and `k` the largest power of two below `n`: if `m < k`,
/// `PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])`, else
/// `PATH(m − k, D[k:n]) : MTH(D[0:k])`; a one-leaf tree has the empty path. The result has
/// at most ⌈log₂ n⌉ hashes, nearest the leaf first. Costs O(n) hashes.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] if `index >= leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    let mut m = match usize::try_from(index) {
        Ok(m) if m < leaves.len() => m,
        _ => return Err(ProofError::IndexOutOfRange { index, size }),
    };
    let mut d = leaves;
    let mut path = Vec::new();
    while d.len() > 1 {
        let k = split_point(d.len());
        if m < k {
            path.push(merkle_root(&d[k..]));
            d = &d[..k];
        } else {
            path.push(merkle_root(&d[..k]));
            m -= k;
            d = &d[k..];
        }
    }
    // Collected root-first; RFC 6962 lists the path leaf-first.
    path.reverse();
    Ok(path)
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves
/// (`index < size`): the levels below the point where the paths to `index` and to the last
/// leaf part ("inner"), plus one for each left perfect subtree above it ("border").
fn inclusion_proof_len(index: u64, size: u64) -> (usize, usize) {
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

/// Verify that `leaf` is the leaf hash at 0-based `index` of the tree of `size` leaves whose
/// root is `root`, using the inclusion `proof` from [`inclusion_proof`].
///
/// Follows RFC 9162 §2.1.3.2: starting from `fn = index`, `sn = size − 1` and `r = leaf`,
/// each proof hash `p` is hashed on the left (`r = SHA-256(0x01 ‖ p ‖ r)`) when `fn` is odd
/// or `fn == sn` (then both are shifted right until `fn` is odd or 0), otherwise on the right
/// (`r = SHA-256(0x01 ‖ r ‖ p)`); then both shift right once. It succeeds when `sn` ends at 0
/// and `r == root`. The proof's length is checked first.
///
/// # Errors
/// - [`ProofError::IndexOutOfRange`] if `index >= size` (the empty tree has no leaves);
/// - [`ProofError::WrongLength`] if the proof has too few or too many hashes;
/// - [`ProofError::RootMismatch`] if the recomputed root differs from `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = inclusion_proof_len(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongLength {
            expected: inner + border,
            actual: proof.len(),
        });
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// The consistency proof between the tree of the first `old_size` leaves and the tree over
/// all `leaves`: RFC 6962 §2.1.2 `PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`.
///
/// `SUBPROOF(m, D[m], true) = {}`, `SUBPROOF(m, D[m], false) = {MTH(D[m])}`; for `m < n` and
/// `k` the largest power of two below `n`: if `m ≤ k`,
/// `SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`, else `SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k])`.
/// Between equal sizes, and from the empty tree (`old_size = 0`, which every tree extends),
/// the proof is empty. Costs O(n) hashes.
///
/// # Errors
/// [`ProofError::SizesOutOfOrder`] if `old_size > leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, ProofError> {
    let new_size = leaves.len() as u64;
    let mut m = match usize::try_from(old_size) {
        Ok(m) if m <= leaves.len() => m,
        _ => {
            return Err(ProofError::SizesOutOfOrder { old_size, new_size });
        }
    };
    let mut proof = Vec::new();
    if m == 0 || m == leaves.len() {
        return Ok(proof);
    }
    let mut d = leaves;
    let mut complete_subtree = true; // RFC 6962's `b`
    loop {
        if m == d.len() {
            if !complete_subtree {
                proof.push(merkle_root(d));
            }
            break;
        }
        let k = split_point(d.len());
        if m <= k {
            proof.push(merkle_root(&d[k..]));
            d = &d[..k];
        } else {
            proof.push(merkle_root(&d[..k]));
            m -= k;
            d = &d[k..];
            complete_subtree = false;
        }
    }
    // Collected root-first; RFC 6962 lists the proof from the old tree upwards.
    proof.reverse();
    Ok(proof)
}

/// The number of hashes in the consistency proof from `old_size` to `new_size`
/// (`0 < old_size < new_size`).
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (inner, border) = inclusion_proof_len(old_size - 1, new_size);
    let shift = old_size.trailing_zeros() as usize;
    // The old tree is a perfect subtree of 2^shift leaves at the path's bottom: its root is
    // the old root itself when `old_size` is a power of two, else the proof's first hash.
    let seed = usize::from(!old_size.is_power_of_two());
    seed + inner.saturating_sub(shift) + border
}

/// Verify that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (the log was only appended to), using the
/// consistency `proof` from [`consistency_proof`].
///
/// Follows RFC 9162 §2.1.4.2 for `0 < old_size < new_size`: if `old_size` is a power of two,
/// `old_root` is prepended to the proof; with `fn = old_size − 1`, `sn = new_size − 1`, both
/// shifted right while `fn` is odd, `fr = sr = ` the first hash, each further hash `c` is
/// hashed on the left of both (`fr = SHA-256(0x01 ‖ c ‖ fr)`, `sr = SHA-256(0x01 ‖ c ‖ sr)`)
/// when `fn` is odd or `fn == sn` (then both shift right until `fn` is odd or 0), otherwise on
/// the right of `sr` only; then both shift right once. It succeeds when `fr == old_root`,
/// `sr == new_root` and `sn` ends at 0. The proof's length is checked first.
///
/// Edge cases (as in RFC 9162 §2.1.4 and Trillian): equal sizes need an empty proof and equal
/// roots; an empty old tree needs an empty proof and `old_root ==` [`EMPTY_ROOT`].
///
/// # Errors
/// - [`ProofError::SizesOutOfOrder`] if `old_size > new_size`;
/// - [`ProofError::WrongLength`] if the proof has too few or too many hashes;
/// - [`ProofError::OldRootMismatch`] / [`ProofError::NewRootMismatch`] if a recomputed root
///   differs from the one given.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_size == 0 {
            return if *old_root == EMPTY_ROOT {
                Ok(())
            } else {
                Err(ProofError::OldRootMismatch)
            };
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::NewRootMismatch)
        };
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            actual: proof.len(),
        });
    }
    // Step 2: the old root heads the path when the old tree is a perfect subtree.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => {
                return Err(ProofError::WrongLength {
                    expected,
                    actual: 0,
                })
            }
        }
    };
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if s == 0 {
            return Err(ProofError::NewRootMismatch);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root || s != 0 {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}
