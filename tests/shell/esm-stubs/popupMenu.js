// Stand-in for resource:///org/gnome/shell/ui/popupMenu.js: see extension.js here.
export {};
