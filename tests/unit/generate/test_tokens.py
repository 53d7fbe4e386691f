"""Tokenisers: SMILES round trips (tricky tokens, MOSES rows), SELFIES, vocabulary errors."""

from __future__ import annotations

import gzip

import pytest
from rdkit import Chem

from biomodels.generate.tokens import SelfiesTokenizer, SmilesTokenizer, TokenError, Vocabulary

TRICKY = {
    "CCl": ["C", "Cl"],
    "Brc1ccccc1": ["Br", "c", "1", "c", "c", "c", "c", "c", "1"],
    "c1cc[nH]c1": ["c", "1", "c", "c", "[nH]", "c", "1"],
    "C%10CC%10": ["C", "%10", "C", "C", "%10"],
    "N[C@@H](C)C(=O)O": ["N", "[C@@H]", "(", "C", ")", "C", "(", "=", "O", ")", "O"],
    "[NH4+].[O-]C(=O)C": ["[NH4+]", ".", "[O-]", "C", "(", "=", "O", ")", "C"],
    "F/C=C\\F": ["F", "/", "C", "=", "C", "\\", "F"],
    "C#N": ["C", "#", "N"],
}


@pytest.mark.parametrize("smiles", sorted(TRICKY))
def test_smiles_tokens_and_round_trip(smiles: str) -> None:
    tokens = SmilesTokenizer().tokenize(smiles)
    assert tokens == TRICKY[smiles]
    assert "".join(tokens) == smiles


def test_moses_rows_round_trip(shared_data) -> None:
    path = shared_data / "moses" / "train.csv.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with gzip.open(path, "rt") as handle:
        rows = [next(handle).strip() for _ in range(2_001)][1:]
    tokenizer = SmilesTokenizer()
    assert all("".join(tokenizer.tokenize(s)) == s for s in rows)


def test_unknown_character_names_its_position() -> None:
    with pytest.raises(TokenError, match="' ' at position 1"):
        SmilesTokenizer().tokenize("C C")
    with pytest.raises(TokenError, match="empty"):
        SmilesTokenizer().tokenize("")


def test_selfies_round_trip() -> None:
    tokenizer = SelfiesTokenizer()
    for smiles in ("CCl", "c1cc[nH]c1", "C%10CC%10", "N[C@@H](C)C(=O)O", "[NH4+]"):
        tokens = tokenizer.tokenize(smiles)
        assert all(t.startswith("[") and t.endswith("]") for t in tokens)
        back = tokenizer.to_smiles(tokens)
        assert Chem.CanonSmiles(back) == Chem.CanonSmiles(smiles)


def test_vocabulary_encodes_decodes_and_refuses_unknown_tokens() -> None:
    vocabulary = Vocabulary(["C", "Cl", "C", "O"])
    assert vocabulary.tokens == ["<pad>", "<bos>", "<eos>", "C", "Cl", "O"]
    ids = vocabulary.encode(["C", "Cl"])
    assert ids == [1, 3, 4, 2]
    assert vocabulary.decode(ids[1:] + [3]) == (["C", "Cl"], True)
    assert vocabulary.decode([3, 5]) == (["C", "O"], False)
    with pytest.raises(TokenError, match=r"token '\[Si\]' \(token 1\) is not in the model's vocabulary"):
        vocabulary.encode(["C", "[Si]"])
