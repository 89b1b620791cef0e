"""The bundled demo portal for `portal-notifier run --demo`: content, pages and its server."""
