"""The server-rendered pages: Jinja2 templates plus the static ES modules and CSS they load."""
