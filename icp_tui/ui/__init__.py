"""The Textual dashboard: app, screens, widgets and one stylesheet."""
