<resource schema="__system">
  <!-- TAP examples (served at /tap/examples; TOPCAT lists them under "Service-provided examples") -->
  <STREAM id="tapexamples">
    <meta name="_example" title="What ObsCore holds">
      Every product (images, spectra, light curves) is a row of
      :taptable:`ivoa.obscore`; count them by collection and type:

      .. tapquery::

        SELECT obs_collection, dataproduct_type, COUNT(*) AS n
        FROM ivoa.obscore
        GROUP BY obs_collection, dataproduct_type
    </meta>
    <meta name="_example" title="Images around a position">
      Images whose footprint touches a 3 arcmin circle, with the URL of the
      FITS file (or of its DataLink document, see access_format):

      .. tapquery::

        SELECT obs_publisher_did, access_url, access_format, s_resolution
        FROM ivoa.obscore
        WHERE dataproduct_type='image'
          AND 1=INTERSECTS(s_region, CIRCLE('ICRS', 150.0, 2.2, 0.05))
    </meta>
    <meta name="_example" title="SDSS quasars with colours">
      Spectroscopic quasars from :taptable:`realsurvey.specphoto` with their
      u-g and g-r colours:

      .. tapquery::

        SELECT TOP 100 objid, ra, dec, modelmag_u-modelmag_g AS u_g,
          modelmag_g-modelmag_r AS g_r, z
        FROM realsurvey.specphoto
        WHERE class='QSO'
        ORDER BY z DESC
    </meta>
    <meta name="_example" title="ZTF alerts with their stamps">
      ZTF alerts that ZTF's deep real/bogus score calls real, joined to
      their ObsCore rows (access_url is the DataLink document of the
      stamp triplet):

      .. tapquery::

        SELECT TOP 20 a.candid, a.objectid, a.magpsf, a.drb, o.access_url
        FROM realsurvey.ztf_alerts AS a
        JOIN ivoa.obscore AS o ON o.obs_publisher_did=a.pubdid
        WHERE a.drb > 0.9
    </meta>
    <meta name="_example" title="Light curves">
      Kepler and TESS light curves with their length in days:

      .. tapquery::

        SELECT target_name, facility_name, t_max-t_min AS days, t_xel, access_url
        FROM ivoa.obscore
        WHERE dataproduct_type='timeseries' AND obs_collection='Kepler/TESS'
    </meta>
  </STREAM>
</resource>
