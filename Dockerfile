# The project image: Prefect worker, Dask scheduler/workers, simulator and Jupyter share it,
# so the code the flows send to Dask is importable on every worker.
FROM python:3.11-slim

# unixODBC + the Microsoft ODBC driver 18 for SQL Server (mssql+pyodbc); FreeTDS (tdsodbc) is
# installed as the documented fallback driver.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl gnupg ca-certificates unixodbc tdsodbc \
 && curl -fsSL https://packages.microsoft.com/keys/microsoft.asc | gpg --dearmor -o /usr/share/keyrings/microsoft.gpg \
 && echo "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/microsoft.gpg] https://packages.microsoft.com/debian/12/prod bookworm main" \
    > /etc/apt/sources.list.d/microsoft-prod.list \
 && apt-get update && ACCEPT_EULA=Y apt-get install -y --no-install-recommends msodbcsql18 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-notebook.txt ./
RUN pip install --no-cache-dir -r requirements.txt -r requirements-notebook.txt jupyterlab==4.6.6
COPY . .
# compiled once here: every container (a flow run's, each Dask worker's) starts with the bytecode
RUN python -m compileall -q boxscore flows tasks web
ENV PYTHONPATH=/app PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
