"""``GET /docs``: a self-contained HTML page of the API, built from the app's OpenAPI schema.

FastAPI's Swagger UI loads its scripts from a public CDN, so on an offline machine it is blank; no
package on PyPI ships the assets for FastAPI. This page uses no script and no outside asset: each
endpoint with its summary, request fields and responses, and a link to ``/openapi.json`` (the
schema, for any OpenAPI viewer or client generator).
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

STYLE = "body{font-family:sans-serif;max-width:60em;margin:2em auto}code{background:#eee;padding:0 .2em}"


def render_docs(schema: dict[str, Any]) -> str:
    """The page's HTML for an OpenAPI ``schema``."""
    title = escape(schema.get("info", {}).get("title", "API"))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>",
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>",
        "<p>Schema: <a href='/openapi.json'>/openapi.json</a> (import it into any OpenAPI viewer).</p>",
    ]
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            parts.append(f"<h2><code>{escape(method.upper())} {escape(path)}</code></h2>")
            parts.append(f"<p>{escape(operation.get('description') or operation.get('summary', ''))}</p>")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            fields = body.get("schema", {}).get("properties", {})
            if fields:
                items = "".join(
                    f"<li><code>{escape(name)}</code>: {escape(spec.get('description', ''))}</li>"
                    for name, spec in fields.items()
                )
                parts.append(f"<p>JSON body fields:</p><ul>{items}</ul>")
            codes = ", ".join(escape(code) for code in operation.get("responses", {}))
            parts.append(f"<p>Responses: {codes}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def add_docs_page(app: FastAPI) -> None:
    """Serve :func:`render_docs` of ``app`` at ``/docs`` (left out of the schema)."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))
