//! RFC 6962 Merkle roots, inclusion and consistency proofs.
//!
//! Expected hashes are the published test vectors of Trillian's RFC 6962 tests
//! (`github.com/google/trillian`, `merkle/testonly/constants.go` and
//! `merkle/log_verifier_test.go`, the same vectors as certificate-transparency-go), over the
//! eight leaf inputs below, hashed as RFC 6962 leaves `SHA-256(0x00 ‖ input)`.

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use tuanji_audit::{
    consistency_proof, inclusion_proof, merkle_root, node_hash, verify_consistency,
    verify_inclusion, Hash, MerkleBuilder, ProofError, EMPTY_ROOT,
};

/// Trillian's `LeafInputs()`.
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Trillian's `RootHashes()`: the root of the tree of the first `n` leaves, `n = 0..=8`.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Trillian's `NodeHashes()` level 0: the leaf hashes of `LEAF_INPUTS`.
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

fn h(hex_str: &str) -> Hash {
    hex::decode(hex_str)
        .expect("test vector is hex")
        .try_into()
        .expect("test vector is 32 bytes")
}

fn rfc6962_leaf(input: &[u8]) -> Hash {
    let mut d = Sha256::new();
    d.update([0x00]);
    d.update(input);
    d.finalize().into()
}

fn vector_leaves() -> Vec<Hash> {
    LEAF_INPUTS
        .iter()
        .map(|i| rfc6962_leaf(&hex::decode(i).expect("leaf input is hex")))
        .collect()
}

/// Distinct leaf hashes for generated trees.
fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| rfc6962_leaf(&i.to_be_bytes()))
        .collect()
}

/// RFC 6962 §2.1 MTH, written directly from the RFC's recursive definition.
fn reference_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => Sha256::digest([]).into(),
        1 => d[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&reference_mth(&d[..k]), &reference_mth(&d[k..]))
        }
    }
}

#[test]
fn leaf_hashes_match_trillian_vectors() {
    let got: Vec<String> = vector_leaves().iter().map(hex::encode).collect();
    assert_eq!(got, LEAF_HASHES);
}

#[test]
fn roots_of_sizes_0_to_8_match_trillian_vectors() {
    let leaves = vector_leaves();
    for (n, want) in ROOTS.iter().enumerate() {
        assert_eq!(hex::encode(merkle_root(&leaves[..n])), *want, "size {n}");
    }
}

#[test]
fn builder_roots_after_each_push_match_trillian_vectors() {
    let mut b = MerkleBuilder::new();
    assert_eq!(hex::encode(b.root()), ROOTS[0]);
    for (i, leaf) in vector_leaves().into_iter().enumerate() {
        b.push(leaf);
        assert_eq!(b.size(), i as u64 + 1);
        assert_eq!(hex::encode(b.root()), ROOTS[i + 1], "size {}", i + 1);
    }
}

#[test]
fn empty_tree_root_is_sha256_of_empty_string() {
    assert_eq!(
        hex::encode(EMPTY_ROOT),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(merkle_root(&[]), EMPTY_ROOT);
}

#[test]
fn interior_nodes_match_trillian_vectors() {
    let l = vector_leaves();
    // NodeHashes() level 1 and 2.
    assert_eq!(
        hex::encode(node_hash(&l[0], &l[1])),
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
    );
    assert_eq!(
        hex::encode(node_hash(&l[6], &l[7])),
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
    );
    assert_eq!(
        hex::encode(merkle_root(&l[4..8])),
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
    );
}

#[test]
fn builder_equals_recursive_definition_for_sizes_0_to_300() {
    let all = leaves(300);
    let mut b = MerkleBuilder::new();
    assert_eq!(b.root(), reference_mth(&[]));
    for n in 1..=300 {
        b.push(all[n - 1]);
        assert_eq!(b.root(), reference_mth(&all[..n]), "size {n}");
    }
    let collected: MerkleBuilder = all.iter().copied().collect();
    assert_eq!(collected, b);
}

#[test]
fn builder_handles_a_million_leaves() {
    // Same leaf repeated: the tree shape, not leaf hashing, is under test. 1,000,000 =
    // 0b11110100001001000000, so the compact range holds 7 subtree roots.
    let leaf = rfc6962_leaf(b"x");
    let mut b = MerkleBuilder::new();
    for _ in 0..1_000_000 {
        b.push(leaf);
    }
    assert_eq!(b.size(), 1_000_000);
    // Root of 2^k copies of one leaf: hash the node with itself k times.
    let mut perfect = vec![leaf];
    for k in 1..20 {
        let prev = perfect[k - 1];
        perfect.push(node_hash(&prev, &prev));
    }
    // 1,000,000 = 2^19 + 2^18 + 2^17 + 2^16 + 2^14 + 2^9 + 2^6: fold right to left.
    let parts = [19, 18, 17, 16, 14, 9, 6];
    let mut want = perfect[6];
    for &k in parts.iter().rev().skip(1) {
        want = node_hash(&perfect[k], &want);
    }
    assert_eq!(b.root(), want);
}

/// Trillian `inclusionProofs`: (0-based index, size, path).
fn trillian_inclusion_vectors() -> Vec<(u64, u64, Vec<&'static str>)> {
    vec![
        (
            0,
            8,
            vec![
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            vec![
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            vec![
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (0, 1, vec![]),
    ]
}

#[test]
fn inclusion_proofs_match_trillian_vectors() {
    let l = vector_leaves();
    for (index, size, want) in trillian_inclusion_vectors() {
        let tree = &l[..size as usize];
        let proof = inclusion_proof(tree, index).expect("index is in the tree");
        let got: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(got, want, "index {index} size {size}");
        let root = h(ROOTS[size as usize]);
        assert_eq!(
            verify_inclusion(&l[index as usize], index, size, &proof, &root),
            Ok(())
        );
    }
}

/// Trillian `consistencyProofs`: (old size, new size, proof).
fn trillian_consistency_vectors() -> Vec<(u64, u64, Vec<&'static str>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            vec![
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            vec![
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ]
}

#[test]
fn consistency_proofs_match_trillian_vectors() {
    let l = vector_leaves();
    for (old, new, want) in trillian_consistency_vectors() {
        let proof = consistency_proof(&l[..new as usize], old).expect("old size fits");
        let got: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(got, want, "{old} -> {new}");
        let (old_root, new_root) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &proof),
            Ok(())
        );
    }
}

fn flip(proof: &[Hash], hash: usize, byte: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[hash][byte] ^= 0x01;
    p
}

#[test]
fn inclusion_proofs_for_every_index_of_sizes_1_to_64_verify_and_any_altered_byte_fails() {
    let all = leaves(64);
    for size in 1..=64usize {
        let tree = &all[..size];
        let root = merkle_root(tree);
        let n = size as u64;
        for index in 0..size {
            let i = index as u64;
            let leaf = &tree[index];
            let proof = inclusion_proof(tree, i).expect("index is in the tree");
            assert_eq!(
                verify_inclusion(leaf, i, n, &proof, &root),
                Ok(()),
                "{i}/{n}"
            );
            for k in 0..proof.len() {
                for byte in 0..32 {
                    assert_eq!(
                        verify_inclusion(leaf, i, n, &flip(&proof, k, byte), &root),
                        Err(ProofError::RootMismatch),
                        "{i}/{n}: hash {k} byte {byte}"
                    );
                }
            }
            // Wrong leaf, wrong root.
            let mut other = *leaf;
            other[31] ^= 0x80;
            assert_eq!(
                verify_inclusion(&other, i, n, &proof, &root),
                Err(ProofError::RootMismatch)
            );
            assert_eq!(
                verify_inclusion(leaf, i, n, &proof, &EMPTY_ROOT),
                Err(ProofError::RootMismatch)
            );
            // Wrong index or size.
            for j in [i.wrapping_sub(1), i + 1, i ^ 2] {
                if j < n && j != i {
                    assert!(
                        verify_inclusion(leaf, j, n, &proof, &root).is_err(),
                        "{j}/{n}"
                    );
                }
            }
            // (A size off by one can verify with the same root: the root, not the size, binds
            // the tree; a checkpoint signs the two together.)
            for m in [n * 2, n / 2] {
                if m > i && m != n {
                    assert!(
                        verify_inclusion(leaf, i, m, &proof, &root).is_err(),
                        "{i}/{m}"
                    );
                }
            }
            // A hash added or removed.
            let mut longer = proof.clone();
            longer.push(root);
            assert_eq!(
                verify_inclusion(leaf, i, n, &longer, &root),
                Err(ProofError::WrongLength {
                    expected: proof.len(),
                    actual: proof.len() + 1
                })
            );
            let mut front = vec![root];
            front.extend_from_slice(&proof);
            assert!(verify_inclusion(leaf, i, n, &front, &root).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert_eq!(
                    verify_inclusion(leaf, i, n, shorter, &root),
                    Err(ProofError::WrongLength {
                        expected: proof.len(),
                        actual: proof.len() - 1
                    })
                );
            }
        }
    }
}

#[test]
fn inclusion_index_outside_the_tree_is_refused() {
    let tree = leaves(5);
    assert_eq!(
        inclusion_proof(&tree, 5),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        inclusion_proof(&[], 0),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        verify_inclusion(&tree[0], 5, 5, &[], &merkle_root(&tree)),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        verify_inclusion(&tree[0], 0, 0, &[], &EMPTY_ROOT),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        inclusion_proof(&tree, u64::MAX),
        Err(ProofError::IndexOutOfRange {
            index: u64::MAX,
            size: 5
        })
    );
}

#[test]
fn consistency_proofs_for_all_pairs_up_to_32_verify_and_any_altered_byte_fails() {
    let all = leaves(32);
    let roots: Vec<Hash> = (0..=32).map(|n| merkle_root(&all[..n])).collect();
    for new in 0..=32usize {
        for old in 0..=new {
            let (o, n) = (old as u64, new as u64);
            let proof = consistency_proof(&all[..new], o).expect("old size fits");
            assert_eq!(
                verify_consistency(o, n, &roots[old], &roots[new], &proof),
                Ok(()),
                "{o} -> {n}"
            );
            if old == 0 || old == new {
                assert!(proof.is_empty(), "{o} -> {n}");
                continue;
            }
            for k in 0..proof.len() {
                for byte in 0..32 {
                    assert!(
                        verify_consistency(o, n, &roots[old], &roots[new], &flip(&proof, k, byte))
                            .is_err(),
                        "{o} -> {n}: hash {k} byte {byte}"
                    );
                }
            }
            // Other roots, swapped roots, other sizes.
            let mut bad = roots[old];
            bad[0] ^= 0x01;
            // A power-of-two old tree's root is the proof's seed: a wrong one shows in the
            // recomputed new root.
            let want = if o.is_power_of_two() {
                ProofError::NewRootMismatch
            } else {
                ProofError::OldRootMismatch
            };
            assert_eq!(
                verify_consistency(o, n, &bad, &roots[new], &proof),
                Err(want),
                "{o} -> {n}"
            );
            let mut bad = roots[new];
            bad[0] ^= 0x01;
            assert_eq!(
                verify_consistency(o, n, &roots[old], &bad, &proof),
                Err(ProofError::NewRootMismatch),
                "{o} -> {n}"
            );
            assert!(verify_consistency(o, n, &roots[new], &roots[old], &proof).is_err());
            for (o2, n2) in [(o - 1, n), (o + 1, n), (o, n + 1), (o, n - 1), (o, n * 2)] {
                if o2 <= n2 && (o2, n2) != (o, n) && n2 <= 32 {
                    assert!(
                        verify_consistency(
                            o2,
                            n2,
                            &roots[o2 as usize],
                            &roots[n2 as usize],
                            &proof
                        )
                        .is_err(),
                        "proof {o}->{n} used for {o2}->{n2}"
                    );
                }
            }
            // A hash added or removed.
            let mut longer = proof.clone();
            longer.push(roots[new]);
            assert!(verify_consistency(o, n, &roots[old], &roots[new], &longer).is_err());
            assert!(
                verify_consistency(o, n, &roots[old], &roots[new], &proof[..proof.len() - 1])
                    .is_err()
            );
        }
    }
}

#[test]
fn consistency_edge_cases() {
    let all = leaves(4);
    let r4 = merkle_root(&all);
    let r3 = merkle_root(&all[..3]);
    assert_eq!(
        consistency_proof(&all, 5),
        Err(ProofError::SizesOutOfOrder {
            old_size: 5,
            new_size: 4
        })
    );
    assert_eq!(
        verify_consistency(4, 3, &r4, &r3, &[]),
        Err(ProofError::SizesOutOfOrder {
            old_size: 4,
            new_size: 3
        })
    );
    // Equal sizes: empty proof, equal roots.
    assert_eq!(verify_consistency(4, 4, &r4, &r4, &[]), Ok(()));
    assert_eq!(
        verify_consistency(4, 4, &r3, &r4, &[]),
        Err(ProofError::NewRootMismatch)
    );
    assert_eq!(
        verify_consistency(4, 4, &r4, &r4, &[r4]),
        Err(ProofError::WrongLength {
            expected: 0,
            actual: 1
        })
    );
    // From the empty tree.
    assert_eq!(verify_consistency(0, 4, &EMPTY_ROOT, &r4, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, 4, &r3, &r4, &[]),
        Err(ProofError::OldRootMismatch)
    );
    // A non-trivial proof with nothing in it.
    assert_eq!(
        verify_consistency(3, 4, &r3, &r4, &[]),
        Err(ProofError::WrongLength {
            expected: 3,
            actual: 0
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_inclusion_proofs_verify(size in 1usize..1000, pick in any::<prop::sample::Index>()) {
        let tree = leaves(size);
        let index = pick.index(size);
        let root = merkle_root(&tree);
        let proof = inclusion_proof(&tree, index as u64).expect("index is in the tree");
        prop_assert_eq!(
            verify_inclusion(&tree[index], index as u64, size as u64, &proof, &root),
            Ok(())
        );
    }

    #[test]
    fn random_consistency_proofs_verify(new in 1usize..1000, pick in any::<prop::sample::Index>()) {
        let tree = leaves(new);
        let old = pick.index(new + 1);
        let proof = consistency_proof(&tree, old as u64).expect("old size fits");
        prop_assert_eq!(
            verify_consistency(
                old as u64,
                new as u64,
                &merkle_root(&tree[..old]),
                &merkle_root(&tree),
                &proof
            ),
            Ok(())
        );
    }
}
