// Stand-in for resource:///org/gnome/shell/ui/panelMenu.js: see extension.js here.
export {};
