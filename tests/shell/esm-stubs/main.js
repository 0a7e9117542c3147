// Stand-in for resource:///org/gnome/shell/ui/main.js: see extension.js here.
export {};
