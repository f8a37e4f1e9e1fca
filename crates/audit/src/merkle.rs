//! RFC 6962 Merkle tree hashing over leaf hashes: the Merkle tree hash (MTH) of a run of
//! entries, computed in one pass with memory logarithmic in the number of leaves.
//!
//! Source: RFC 6962 §2.1 ("Merkle Hash Trees"), restated in RFC 9162 §2.1.1.

use sha2::{Digest, Sha256};

use crate::chain::Hash;

/// The domain-separation byte prefixed to the two children of an interior node
/// (RFC 6962 §2.1: `0x01` for nodes, `0x00` for leaves, see [`crate::LEAF_HASH_PREFIX`]).
pub const NODE_HASH_PREFIX: u8 = 0x01;

/// The Merkle tree hash of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1,
/// `MTH({}) = SHA-256()`), `e3b0c442…7852b855`.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)` (RFC 6962 §2.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_HASH_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The RFC 6962 Merkle tree hash (`MTH`) of a list of leaf hashes, in log order.
///
/// `leaves[i]` is the leaf hash of the entry with `seq` `i + 1`, i.e. already
/// `SHA-256(0x00 ‖ canonical_v1(entry))` ([`crate::leaf_hash`]); it is used as is, not hashed
/// again. For `n > 1` leaves, with `k` the largest power of two smaller than `n`,
/// `MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`; one leaf is its own root; the empty
/// list gives [`EMPTY_ROOT`] (RFC 6962 §2.1).
///
/// Computed with a [`MerkleBuilder`]: `n − 1` node hashes, memory O(log n).
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    let mut b = MerkleBuilder::new();
    b.extend(leaves.iter().copied());
    b.root()
}

/// The Merkle tree hash of `leaves`, computed incrementally, one leaf at a time.
///
/// Keeps only the roots of the perfect subtrees that make up the tree so far (a "compact
/// range": one root per set bit of the size, largest first), so a log of 1,000,000 entries
/// needs 20 hashes of memory (at most 64 for any `u64` size). [`MerkleBuilder::root`] folds
/// them right to left, which is exactly RFC 6962's split at the largest power of two.
///
/// ```
/// use tuanji_audit::{merkle_root, MerkleBuilder};
/// let leaves = [[1u8; 32], [2u8; 32], [3u8; 32]];
/// let mut b = MerkleBuilder::new();
/// for leaf in leaves {
///     b.push(leaf);
/// }
/// assert_eq!(b.size(), 3);
/// assert_eq!(b.root(), merkle_root(&leaves));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleBuilder {
    /// Number of leaves pushed so far.
    size: u64,
    /// Roots of the perfect subtrees, left to right (largest first); `stack.len()` is the
    /// number of set bits of `size`.
    stack: Vec<Hash>,
}

impl MerkleBuilder {
    /// An empty tree (size 0, root [`EMPTY_ROOT`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the next leaf hash (the leaf of `seq = size() + 1`).
    ///
    /// Merges the completed perfect subtrees: as many node hashes as the number of trailing
    /// one bits of the old size (amortised one per leaf).
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            match self.stack.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                None => break,
            }
            size >>= 1;
        }
        self.stack.push(hash);
        self.size += 1;
    }

    /// The frontier: the roots of the perfect subtrees of the leaves pushed so far, left to right (largest
    /// first), one per set bit of [`MerkleBuilder::size`]. Stored with a checkpoint, it lets the next checkpoint
    /// be computed from the leaves after it alone.
    pub fn frontier(&self) -> &[Hash] {
        &self.stack
    }

    /// A builder that continues a tree of `size` leaves from its [`MerkleBuilder::frontier`]; `None` when the
    /// frontier does not have one hash per set bit of `size`.
    pub fn from_frontier(size: u64, frontier: &[Hash]) -> Option<Self> {
        (frontier.len() == size.count_ones() as usize).then(|| MerkleBuilder {
            size,
            stack: frontier.to_vec(),
        })
    }

    /// Number of leaves pushed so far (the tree size).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle tree hash of the leaves pushed so far ([`EMPTY_ROOT`] if none).
    ///
    /// Does not change the builder: more leaves can be pushed afterwards.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.stack.iter().rev();
        match subtrees.next() {
            None => EMPTY_ROOT,
            Some(last) => subtrees.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

impl Extend<Hash> for MerkleBuilder {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for MerkleBuilder {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut b = Self::new();
        b.extend(leaves);
        b
    }
}

/// The largest power of two strictly smaller than `n` (RFC 6962 §2.1's `k`); `n` must be ≥ 2.
pub(crate) fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_continued_from_its_frontier_has_the_roots_of_the_whole_tree() {
        let leaves: Vec<Hash> = (0u8..70).map(|i| [i; 32]).collect();
        for cut in 0..leaves.len() {
            let first: MerkleBuilder = leaves[..cut].iter().copied().collect();
            assert_eq!(first.frontier().len(), (cut as u64).count_ones() as usize);
            let mut b = MerkleBuilder::from_frontier(first.size(), first.frontier())
                .expect("a frontier of the right length");
            for (i, leaf) in leaves[cut..].iter().enumerate() {
                b.push(*leaf);
                assert_eq!(
                    b.root(),
                    merkle_root(&leaves[..cut + i + 1]),
                    "cut {cut}, size {}",
                    cut + i + 1
                );
            }
        }
        assert!(MerkleBuilder::from_frontier(3, &[[0; 32]]).is_none());
        assert!(MerkleBuilder::from_frontier(0, &[[0; 32]]).is_none());
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        let got: Vec<usize> = (2..=9).map(split_point).collect();
        assert_eq!(got, vec![1, 2, 2, 4, 4, 4, 4, 8]);
    }

    #[test]
    fn empty_root_is_sha256_of_empty_string() {
        let h: Hash = Sha256::digest([]).into();
        assert_eq!(EMPTY_ROOT, h);
    }
}
