/* bj-message-private.h
 *
 * Copyright 2026 The bpy-jupyter developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "bj-message.h"

G_BEGIN_DECLS

/* Takes a reference on each object and each text frame (header, parent header,
 * metadata, content), keeping the received text so it can be echoed as a parent
 * header byte for byte. */
BjMessage *bj_message_new_parsed (JsonObject * const objects[4],
                                  GBytes     * const texts[4]);

G_END_DECLS
