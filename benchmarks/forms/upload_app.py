"""The upload endpoint of bench_forms.py --http, served by FasterAPI or by FastAPI on uvicorn:
`python3 upload_app.py fasterapi|fastapi PORT`."""

import sys
from typing import Any

framework, port = sys.argv[1], int(sys.argv[2])
if framework == "fasterapi":
    from fasterapi import FastAPI, UploadFile
else:
    from fastapi import FastAPI, UploadFile  # type: ignore[assignment]

app = FastAPI()


@app.get("/ready")
def ready() -> dict[str, bool]:
    return {"ok": True}


@app.post("/upload")
async def upload(file: UploadFile) -> dict[str, Any]:
    return {"size": file.size, "name": file.filename}


if __name__ == "__main__":
    if framework == "fasterapi":
        app.run(host="127.0.0.1", port=port)  # type: ignore[attr-defined]
    else:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
