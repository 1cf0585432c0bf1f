"""The API's documentation page (/docs): Swagger UI served from the service's own copy of its
files, never from a CDN, so that it shows on a closed network as on the internet."""

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from shared.kernel.settings import Settings

# A relative AAP_ASSETS_DIR is read from the project's folder (the one holding shared/).
PROJECT = Path(__file__).resolve().parents[2]
SWAGGER_UI = "swagger-ui-dist"  # the npm package, pinned in web/package-lock.json
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
ASSETS = "/docs/assets"


def assets_dir(settings: Settings) -> Path:
    folder = Path(settings.assets_dir)
    return folder if folder.is_absolute() else PROJECT / folder


def install_docs(app: FastAPI, settings: Settings) -> None:
    """/docs, and its files under /docs/assets; a page saying how to install them when they are
    missing (checked at start: install them, then restart the service)."""
    swagger_ui = assets_dir(settings) / SWAGGER_UI
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} — API"
    if all((swagger_ui / name).is_file() for name in FILES):
        app.mount(ASSETS, StaticFiles(directory=swagger_ui), name="docs-assets")

        @app.get("/docs", include_in_schema=False)
        async def docs() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url=openapi_url,
                title=title,
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
                # no badge from validator.swagger.io: nothing leaves the service's host
                swagger_ui_parameters={"validatorUrl": None},
            )

        return

    missing = _not_installed(title, swagger_ui, openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def docs_not_installed() -> HTMLResponse:
        return HTMLResponse(missing, status_code=503)


def _not_installed(title: str, folder: Path, openapi_url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(title)}: documentation not installed</title></head>
<body>
<h1>{escape(title)}</h1>
<p>The documentation page's files (Swagger UI) are not installed: <code>{escape(str(folder))}</code>
holds no <code>{"</code>, <code>".join(FILES)}</code>.</p>
<p>Install them with <code>deploy/local/assets.sh</code> (<code>./dev up</code> runs it:
<code>npm ci</code> in <code>web/</code>), or set <code>AAP_ASSETS_DIR</code> to the folder
where npm installed <code>{SWAGGER_UI}</code>, then restart the service.</p>
<p>The OpenAPI document itself answers at
<a href="{escape(openapi_url)}">{escape(openapi_url)}</a>.</p>
</body>
</html>
"""
