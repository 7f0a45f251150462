// The whole syntax tree in preorder, as parallel arrays (see flatten.c).
#ifndef NIX_BUILDERS_FLATTEN_H
#define NIX_BUILDERS_FLATTEN_H

#include <stdint.h>

#include "tree_sitter/api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { NIX_FLAT_NAMED = 1, NIX_FLAT_MISSING = 2, NIX_FLAT_HAS_ERROR = 4, NIX_FLAT_EXTRA = 8 };

typedef struct {
  uint32_t count;
  uint32_t capacity;
  uint16_t *symbol;  // public symbol (aliases applied), as ts_node_symbol
  uint16_t *field;   // the field this node has in its parent, 0 none, as ts_tree_cursor_current_field_id
  uint32_t *start;   // start and end offsets, in UTF-16 units (bytes / 2 of the UTF-16LE input)
  uint32_t *end;
  int32_t *next;     // the next sibling, -1 none
  uint32_t *stop;    // the index after the node's last descendant (first child, if any, is index + 1)
  uint8_t *flags;    // NIX_FLAT_*
  uint32_t depth;    // the deepest nesting of subtrees walked (hidden ones too)
} NixFlat;

// Fills `out` (zero-initialised by the caller). Returns 0, or -1 when out of memory.
int nix_flatten(const TSTree *tree, NixFlat *out);
// The same for the subtree of one node (index 0 is `node`, given field `field`;
// offsets stay absolute): how an incremental parse re-reads only what changed.
int nix_flatten_node(TSNode node, uint16_t field, NixFlat *out);
// A node's NIX_FLAT_* flags, through the node API.
uint8_t nix_node_flags(TSNode node);
void nix_flat_free(NixFlat *flat);
// How many subtrees (hidden ones too) a cursor stands below the root.
uint32_t nix_cursor_depth(const TSTreeCursor *cursor);

#ifdef __cplusplus
}
#endif

#endif
