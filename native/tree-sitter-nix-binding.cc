// N-API binding for the tree-sitter-nix grammar, with the tree-sitter runtime
// (vendored in the `tree-sitter` npm package) compiled in.
//
// Why not node-tree-sitter: reading a tree through it costs one native call per
// node property (type, startIndex, namedChildren…), which made reading a 1 MB
// file ~10× its parse (see `npm run bench`). Here flatten() hands over the whole
// tree in one call, as typed arrays in preorder, and the reader works on node
// indices. (The grammar's own npm binding is nan-based and unusable anyway.)
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "flatten.h"
#include "tree_sitter/api.h"

extern "C" const TSLanguage *tree_sitter_nix();

// Our own tag for tree handles, so a foreign External is refused instead of crashing.
static const napi_type_tag TREE_TYPE_TAG = {0x6e69782d6275696cULL, 0x646572732d747265ULL};

namespace {

// Texts up to 2 MB (in UTF-16 units: 4 MB) keep their copy buffer for the next parse.
constexpr size_t kKeepTextBuffer = 2 * 1024 * 1024;

struct AddonData {
  TSParser *parser = nullptr;
  std::vector<char16_t> text;
  ~AddonData() {
    if (parser) ts_parser_delete(parser);
  }
};

Napi::Value Throw(Napi::Env env, const char *message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// A tree handle: null once disposed (dispose() frees a tree now, not at some later GC).
struct Handle {
  TSTree *tree;
};

void DeleteHandle(Napi::Env, Handle *h) {
  if (h->tree) ts_tree_delete(h->tree);
  delete h;
}

Napi::Value WrapTree(Napi::Env env, TSTree *tree) {
  auto handle = Napi::External<Handle>::New(env, new Handle{tree}, DeleteHandle);
  handle.TypeTag(&TREE_TYPE_TAG);
  return handle;
}

Handle *UnwrapHandle(const Napi::Value &value) {
  if (!value.IsExternal()) return nullptr;
  auto handle = value.As<Napi::External<Handle>>();
  if (!handle.CheckTypeTag(&TREE_TYPE_TAG)) return nullptr;
  return handle.Data();
}

// The live tree of a handle, or null (not a handle, or disposed).
TSTree *UnwrapTree(const Napi::Value &value) {
  Handle *h = UnwrapHandle(value);
  return h ? h->tree : nullptr;
}

// dispose(tree): frees the native tree now; the handle is dead afterwards (disposing twice is harmless).
Napi::Value Dispose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Handle *h = info.Length() > 0 ? UnwrapHandle(info[0]) : nullptr;
  if (!h) return Throw(env, "dispose(tree): not a tree handle");
  if (h->tree) ts_tree_delete(h->tree);
  h->tree = nullptr;
  return env.Undefined();
}

// The text being parsed, for tree-sitter's read callback: all of it at once.
struct TextInput {
  const char *bytes;
  uint32_t length;
};

const char *ReadText(void *payload, uint32_t byte, TSPoint, uint32_t *bytes_read) {
  auto *in = static_cast<TextInput *>(payload);
  if (byte >= in->length) {
    *bytes_read = 0;
    return "";
  }
  *bytes_read = in->length - byte;
  return in->bytes + byte;
}

// Ends a parse that runs past its deadline: tree-sitter-nix needs seconds to
// minutes for some inputs (100,000 unary minus signs), which would freeze the
// language server.
struct Deadline {
  std::chrono::steady_clock::time_point at;
};

bool PastDeadline(TSParseState *state) {
  auto *d = static_cast<Deadline *>(state->payload);
  return std::chrono::steady_clock::now() > d->at;
}

// parse(text: string, oldTree?: handle, timeoutMs?: number): handle, or
// undefined when the parse took longer than timeoutMs (no limit when absent).
// Offsets in the tree are bytes of the UTF-16LE text, i.e. 2 × JavaScript
// string indices.
Napi::Value Parse(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return Throw(env, "parse(text, oldTree?, timeoutMs?): text must be a string");
  TSTree *old = nullptr;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    old = UnwrapTree(info[1]);
    if (!old) return Throw(env, "parse(text, oldTree?, timeoutMs?): oldTree is not a tree handle (or was disposed)");
  }
  double timeoutMs = 0;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsNumber()) return Throw(env, "parse(text, oldTree?, timeoutMs?): timeoutMs must be a number");
    timeoutMs = info[2].As<Napi::Number>().DoubleValue();
    if (!(timeoutMs > 0)) return Throw(env, "parse(text, oldTree?, timeoutMs?): timeoutMs must be positive");
  }
  auto *data = env.GetInstanceData<AddonData>();
  size_t length = 0;
  napi_get_value_string_utf16(env, info[0], nullptr, 0, &length);
  data->text.resize(length + 1);
  size_t copied = 0;
  napi_get_value_string_utf16(env, info[0], data->text.data(), length + 1, &copied);
  TextInput text{reinterpret_cast<const char *>(data->text.data()), static_cast<uint32_t>(copied * 2)};
  TSInput input{&text, ReadText, TSInputEncodingUTF16LE, nullptr};
  TSTree *tree;
  if (timeoutMs > 0) {
    Deadline deadline{std::chrono::steady_clock::now() +
                      std::chrono::microseconds(static_cast<int64_t>(std::min(timeoutMs, 1e9) * 1000))};
    TSParseOptions options{&deadline, PastDeadline};
    tree = ts_parser_parse_with_options(data->parser, old, input, options);
  } else {
    tree = ts_parser_parse(data->parser, old, input);
  }
  // The copy buffer is reused between parses, but a pathological 10 MB text should not keep 20 MB alive.
  if (data->text.capacity() > kKeepTextBuffer) std::vector<char16_t>().swap(data->text);
  if (!tree) {
    // Cancelled by the deadline: start the next parse from scratch, not from here.
    ts_parser_reset(data->parser);
    return env.Undefined();
  }
  return WrapTree(env, tree);
}

uint32_t Arg(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }

// edit(tree, startIndex, oldEndIndex, newEndIndex, startRow, startColumn,
//      oldEndRow, oldEndColumn, newEndRow, newEndColumn), in UTF-16 units.
Napi::Value Edit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *tree = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  if (!tree) return Throw(env, "edit(tree, …): not a tree handle (or was disposed)");
  if (info.Length() < 10) return Throw(env, "edit(tree, …): ten arguments");
  // Offsets and positions are doubled into bytes: each must be a whole number in [0, 2^30].
  for (size_t i = 1; i < 10; i++) {
    if (!info[i].IsNumber()) return Throw(env, "edit(tree, …): offsets must be numbers");
    double v = info[i].As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 1073741824.0) || v != static_cast<double>(static_cast<uint32_t>(v))) {
      return Throw(env, "edit(tree, …): offsets must be whole numbers from 0 to 2^30");
    }
  }
  if (Arg(info, 1) > Arg(info, 2) || Arg(info, 1) > Arg(info, 3)) {
    return Throw(env, "edit(tree, …): the edit must start before its old and new ends");
  }
  TSInputEdit e;
  e.start_byte = Arg(info, 1) * 2;
  e.old_end_byte = Arg(info, 2) * 2;
  e.new_end_byte = Arg(info, 3) * 2;
  e.start_point = {Arg(info, 4), Arg(info, 5) * 2};
  e.old_end_point = {Arg(info, 6), Arg(info, 7) * 2};
  e.new_end_point = {Arg(info, 8), Arg(info, 9) * 2};
  ts_tree_edit(tree, &e);
  return env.Undefined();
}

// copy(tree): an independent handle sharing the tree's (immutable) subtrees.
Napi::Value Copy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *tree = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  if (!tree) return Throw(env, "copy(tree): not a tree handle (or was disposed)");
  return WrapTree(env, ts_tree_copy(tree));
}


template <typename T, typename A>
A ToTyped(Napi::Env env, const std::vector<T> &v) {
  auto buffer = Napi::ArrayBuffer::New(env, v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(buffer.Data(), v.data(), v.size() * sizeof(T));
  return A::New(env, v.size(), buffer, 0);
}

// flattenWithCursor(tree): every node in preorder, as parallel typed arrays:
//   symbol (Uint16), field (Uint16: the field this node has in its parent, 0 none),
//   start / end (Uint32, UTF-16 units), next (Int32: next sibling, -1 none),
//   stop (Uint32: the index after this node's last descendant; a node with
//   children has its first child at index + 1), flags (Uint8, NIX_FLAT_* of flatten.h).
// The reference for flatten() (the tests compare them): a TSTreeCursor walk.
Napi::Value FlattenWithCursor(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *tree = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  if (!tree) return Throw(env, "flattenWithCursor(tree): not a tree handle (or was disposed)");
  std::vector<uint16_t> symbol, field;
  std::vector<uint32_t> start, end, stop;
  std::vector<int32_t> next;
  std::vector<uint8_t> flags;
  // open[d]: the index of the last node seen at depth d (whose next sibling is pending).
  std::vector<int32_t> open;
  // About one node per 5 bytes of Nix: reserve so the vectors rarely grow.
  size_t guess = ts_node_end_byte(ts_tree_root_node(tree)) / 10 + 64;
  symbol.reserve(guess);
  field.reserve(guess);
  start.reserve(guess);
  end.reserve(guess);
  next.reserve(guess);
  stop.reserve(guess);
  flags.reserve(guess);
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
  uint32_t depth = 0;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    auto index = static_cast<int32_t>(symbol.size());
    symbol.push_back(ts_node_symbol(node));
    field.push_back(ts_tree_cursor_current_field_id(&cursor));
    start.push_back(ts_node_start_byte(node) / 2);
    end.push_back(ts_node_end_byte(node) / 2);
    next.push_back(-1);
    stop.push_back(0);
    flags.push_back(nix_node_flags(node));
    if (open.size() <= depth) open.resize(depth + 1, -1);
    if (open[depth] >= 0) next[open[depth]] = index;
    open[depth] = index;
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      depth++;
      if (open.size() <= depth) open.resize(depth + 1, -1);
      open[depth] = -1;
      continue;
    }
    // Leaving nodes: each one left is complete, so its stop is known.
    stop[index] = static_cast<uint32_t>(symbol.size());
    bool done = false;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        done = true;
        break;
      }
      depth--;
      stop[open[depth]] = static_cast<uint32_t>(symbol.size());
    }
    if (done) break;
  }
  ts_tree_cursor_delete(&cursor);
  auto out = Napi::Object::New(env);
  out["count"] = Napi::Number::New(env, static_cast<double>(symbol.size()));
  out["symbol"] = ToTyped<uint16_t, Napi::Uint16Array>(env, symbol);
  out["field"] = ToTyped<uint16_t, Napi::Uint16Array>(env, field);
  out["start"] = ToTyped<uint32_t, Napi::Uint32Array>(env, start);
  out["end"] = ToTyped<uint32_t, Napi::Uint32Array>(env, end);
  out["next"] = ToTyped<int32_t, Napi::Int32Array>(env, next);
  out["stop"] = ToTyped<uint32_t, Napi::Uint32Array>(env, stop);
  out["flags"] = ToTyped<uint8_t, Napi::Uint8Array>(env, flags);
  return out;
}

template <typename T, typename A>
A CopyTyped(Napi::Env env, const T *data, uint32_t count) {
  auto buffer = Napi::ArrayBuffer::New(env, static_cast<size_t>(count) * sizeof(T));
  if (count) std::memcpy(buffer.Data(), data, static_cast<size_t>(count) * sizeof(T));
  return A::New(env, count, buffer, 0);
}

Napi::Object FlatToObject(Napi::Env env, const NixFlat &flat) {
  auto out = Napi::Object::New(env);
  out["count"] = Napi::Number::New(env, flat.count);
  out["symbol"] = CopyTyped<uint16_t, Napi::Uint16Array>(env, flat.symbol, flat.count);
  out["field"] = CopyTyped<uint16_t, Napi::Uint16Array>(env, flat.field, flat.count);
  out["start"] = CopyTyped<uint32_t, Napi::Uint32Array>(env, flat.start, flat.count);
  out["end"] = CopyTyped<uint32_t, Napi::Uint32Array>(env, flat.end, flat.count);
  out["next"] = CopyTyped<int32_t, Napi::Int32Array>(env, flat.next, flat.count);
  out["stop"] = CopyTyped<uint32_t, Napi::Uint32Array>(env, flat.stop, flat.count);
  out["flags"] = CopyTyped<uint8_t, Napi::Uint8Array>(env, flat.flags, flat.count);
  out["depth"] = Napi::Number::New(env, flat.depth);
  return out;
}

// flatten(tree): the same arrays as flattenWithCursor, from a direct walk of the subtrees (flatten.c).
Napi::Value Flatten(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *tree = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  if (!tree) return Throw(env, "flatten(tree): not a tree handle (or was disposed)");
  NixFlat flat = {};
  if (nix_flatten(tree, &flat) != 0) {
    nix_flat_free(&flat);
    Napi::Error::New(env, "flatten(tree): out of memory").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto out = FlatToObject(env, flat);
  nix_flat_free(&flat);
  return out;
}

// changedRanges(oldEdited, tree): the ranges whose structure differs between
// an edited copy of the previous tree and the tree parsed from it, as a
// Uint32Array of [start, end) pairs in UTF-16 units (new text).
Napi::Value ChangedRanges(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *old = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  TSTree *tree = info.Length() > 1 ? UnwrapTree(info[1]) : nullptr;
  if (!old || !tree) return Throw(env, "changedRanges(oldEdited, tree): not tree handles (or disposed)");
  uint32_t count = 0;
  TSRange *ranges = ts_tree_get_changed_ranges(old, tree, &count);
  auto out = Napi::Uint32Array::New(env, static_cast<size_t>(count) * 2);
  for (uint32_t i = 0; i < count; i++) {
    out[2 * i] = ranges[i].start_byte / 2;
    out[2 * i + 1] = ranges[i].end_byte / 2;
  }
  free(ranges);
  return out;
}

// flattenAt(tree, chain): `chain` is a Uint32Array of [symbol, start, end]
// triples (UTF-16 units), the visible nodes from the root down to one node.
// When the tree has exactly that chain, returns the flattened subtree of its
// last node (as flatten(); offsets absolute) with `chainFields` and
// `chainFlags` and `chainCounts`, the field, flags and node count (itself
// included) of each node of the chain, and `depth`,
// the subtrees above it plus the depth of its own (hidden ones too); otherwise
// undefined. The incremental reader uses it to re-read one changed subtree.
Napi::Value FlattenAt(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TSTree *tree = info.Length() > 0 ? UnwrapTree(info[0]) : nullptr;
  if (!tree) return Throw(env, "flattenAt(tree, chain): not a tree handle (or was disposed)");
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    return Throw(env, "flattenAt(tree, chain): chain must be a Uint32Array");
  }
  auto chain = info[1].As<Napi::Uint32Array>();
  size_t links = chain.ElementLength() / 3;
  if (links == 0 || chain.ElementLength() % 3 != 0) return Throw(env, "flattenAt(tree, chain): chain holds [symbol, start, end] triples");
  std::vector<uint16_t> fields(links, 0);
  std::vector<uint8_t> flags(links, 0);
  std::vector<uint32_t> counts(links, 0);
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
  bool found = true;
  for (size_t k = 0; k < links && found; k++) {
    uint32_t symbol = chain[3 * k], start = chain[3 * k + 1], end = chain[3 * k + 2];
    if (start > (1u << 30) || end > (1u << 30)) {
      found = false;
      break;
    }
    if (k > 0) {
      // The first child that extends past `start`, then on while children still start at or before it.
      found = ts_tree_cursor_goto_first_child_for_byte(&cursor, start * 2) >= 0;
      while (found) {
        TSNode n = ts_tree_cursor_current_node(&cursor);
        if (ts_node_start_byte(n) > start * 2) found = false;
        else if (ts_node_symbol(n) == symbol && ts_node_start_byte(n) == start * 2 && ts_node_end_byte(n) == end * 2) break;
        else found = ts_tree_cursor_goto_next_sibling(&cursor);
      }
      if (!found) break;
    }
    TSNode n = ts_tree_cursor_current_node(&cursor);
    if (ts_node_symbol(n) != symbol || ts_node_start_byte(n) != start * 2 || ts_node_end_byte(n) != end * 2) {
      found = false;
      break;
    }
    fields[k] = ts_tree_cursor_current_field_id(&cursor);
    counts[k] = ts_node_descendant_count(n);
    flags[k] = nix_node_flags(n);
  }
  if (!found) {
    ts_tree_cursor_delete(&cursor);
    return env.Undefined();
  }
  TSNode target = ts_tree_cursor_current_node(&cursor);
  uint32_t chainDepth = nix_cursor_depth(&cursor);
  ts_tree_cursor_delete(&cursor);
  NixFlat flat = {};
  if (nix_flatten_node(target, fields[links - 1], &flat) != 0) {
    nix_flat_free(&flat);
    Napi::Error::New(env, "flattenAt(tree, chain): out of memory").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto out = FlatToObject(env, flat);
  nix_flat_free(&flat);
  out["chainFields"] = ToTyped<uint16_t, Napi::Uint16Array>(env, fields);
  out["chainFlags"] = ToTyped<uint8_t, Napi::Uint8Array>(env, flags);
  out["chainCounts"] = ToTyped<uint32_t, Napi::Uint32Array>(env, counts);
  // Subtrees above the target plus those below it: the new tree's depth where it changed.
  out["depth"] = Napi::Number::New(env, static_cast<double>(chainDepth) + flat.depth);
  return out;
}

// Symbol names by id (the ERROR symbol, 65535, is `symbolNames.error`) and field names by id.
Napi::Object Names(Napi::Env env, const TSLanguage *lang) {
  auto out = Napi::Object::New(env);
  uint32_t symbols = ts_language_symbol_count(lang);
  auto symbolNames = Napi::Array::New(env, symbols);
  for (uint32_t i = 0; i < symbols; i++) {
    const char *name = ts_language_symbol_name(lang, static_cast<TSSymbol>(i));
    symbolNames[i] = Napi::String::New(env, name ? name : "");
  }
  uint32_t fields = ts_language_field_count(lang);
  auto fieldNames = Napi::Array::New(env, fields + 1);
  fieldNames[0u] = Napi::String::New(env, "");
  for (uint32_t i = 1; i <= fields; i++) {
    const char *name = ts_language_field_name_for_id(lang, static_cast<TSFieldId>(i));
    fieldNames[i] = Napi::String::New(env, name ? name : "");
  }
  out["symbols"] = symbolNames;
  out["fields"] = fieldNames;
  out["errorSymbol"] = Napi::Number::New(env, static_cast<TSSymbol>(-1));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const TSLanguage *lang = tree_sitter_nix();
  auto *data = new AddonData();
  data->parser = ts_parser_new();
  if (!ts_parser_set_language(data->parser, lang)) {
    delete data;
    Napi::Error::New(env, "tree-sitter-nix: the grammar's ABI version is not supported by the runtime")
        .ThrowAsJavaScriptException();
    return exports;
  }
  env.SetInstanceData(data);
  exports["names"] = Names(env, lang);
  exports["parse"] = Napi::Function::New(env, Parse, "parse");
  exports["edit"] = Napi::Function::New(env, Edit, "edit");
  exports["copy"] = Napi::Function::New(env, Copy, "copy");
  exports["flatten"] = Napi::Function::New(env, Flatten, "flatten");
  exports["changedRanges"] = Napi::Function::New(env, ChangedRanges, "changedRanges");
  exports["flattenAt"] = Napi::Function::New(env, FlattenAt, "flattenAt");
  exports["flattenWithCursor"] = Napi::Function::New(env, FlattenWithCursor, "flattenWithCursor");
  exports["dispose"] = Napi::Function::New(env, Dispose, "dispose");
  return exports;
}

}  // namespace

NODE_API_MODULE(tree_sitter_nix_binding, Init)
