// Stand-in for resource:///org/gnome/shell/extensions/extension.js (GNOME 45+),
// which only exists inside gnome-shell: just enough for test_esm_load.js to load
// the ESM port under plain gjs. Nothing here is called.
export class Extension {
    constructor(metadata) {
        this.metadata = metadata;
    }
}

export function gettext(str) {
    return str;
}

export function ngettext(str, strPlural, n) {
    return n === 1 ? str : strPlural;
}
